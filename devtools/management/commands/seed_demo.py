from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.demo.seed import seed_demo
from leads.models import Lead


class Command(BaseCommand):
    help = (
        "Create deterministic demo data across all apps: users manager, marketer, rep1..repR, queues, "
        "segments, scoring rules, campaigns, collateral, and leads with history. Running it again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=2000, help="Number of demo leads (default 2000).")
        parser.add_argument("--reps", type=int, default=5, help="Number of sales reps rep1..repR (default 5).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed; the same seed gives the same data.")
        parser.add_argument("--password", default="demo", help="Password of every demo user (default 'demo').")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (demo users have known passwords)."
        )
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when the database already has leads.")

    def handle(self, *args, leads, reps, seed, password, force, if_empty, **options):
        if leads < 0 or leads > 5_000_000:
            raise CommandError("--leads must be between 0 and 5,000,000.")
        if not 1 <= reps <= 1000:
            raise CommandError("--reps must be between 1 and 1,000.")
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to create demo users with known passwords while DEBUG is off. Use --force if you mean it."
            )
        if if_empty and Lead.objects.exists():
            self.stdout.write("Demo data skipped: the database already has leads.")
            return
        counts = seed_demo(leads=leads, reps=reps, seed=seed, password=password)
        self.stdout.write(self.style.SUCCESS("Demo data ready: " + ", ".join(f"{k} {v}" for k, v in counts.items())))
        self.stdout.write(f"Log in as manager, marketer or rep1..rep{reps} with password '{password}'.")
