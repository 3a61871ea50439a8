"""`python manage.py bench <name> [options]`: the benchmark commands.

Each module of `devtools/benchmarks/` (listed in ``BENCH_MODULES``) declares its benchmarks as
``BENCHMARKS = {"name": (add_arguments, run)}`` where ``add_arguments(parser)`` adds the
options and ``run(options, stdout) -> dict`` measures, prints its figures and the baseline
measured in the same run, and returns the result. The last line printed is that result as
one JSON object.
"""

import importlib
import json

from django.core.management.base import BaseCommand, CommandError

BENCH_MODULES = (
    "devtools.benchmarks.leads",
    "devtools.benchmarks.learned_apply",
    "devtools.benchmarks.rescore_daily",
    "devtools.benchmarks.campaign_members",
    "devtools.benchmarks.handoff",
    "devtools.benchmarks.chaos",
    "devtools.benchmarks.calllist",
    "devtools.benchmarks.reports",
    "devtools.benchmarks.load",
    "devtools.benchmarks.search",
    "devtools.benchmarks.webhooks",
    "devtools.benchmarks.whatif",
    "devtools.benchmarks.soak",
    "devtools.benchmarks.live",
)


def discover() -> dict:
    found = {}
    for module_name in BENCH_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        found.update(getattr(module, "BENCHMARKS", {}))
    return found


class Command(BaseCommand):
    help = "Run a benchmark and print its figures; the last line is one JSON object."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="bench_name", required=True)
        for name, (add_arguments, _run) in sorted(discover().items()):
            # Django 5 CommandParser no longer takes `cmd`; pass what it does take.
            sub = subparsers.add_parser(name, called_from_command_line=getattr(self, "_called_from_command_line", None))
            add_arguments(sub)

    def handle(self, *args, **options):
        name = options["bench_name"]
        benchmarks = discover()
        if name not in benchmarks:
            raise CommandError(f"Unknown benchmark '{name}'. Known: {', '.join(sorted(benchmarks))}.")
        result = benchmarks[name][1](options, self.stdout)
        self.stdout.write(json.dumps(result, sort_keys=False))
