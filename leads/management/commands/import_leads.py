"""`python manage.py import_leads FILE [--dry-run] [--update-existing] [--map 'Column=field']`"""

import json

from django.core.management.base import BaseCommand, CommandError

from leads.imports import leads_import


class Command(BaseCommand):
    help = (
        "Import leads from a UTF-8 CSV file (header row; comma or semicolon). Reports what was (or, "
        "with --dry-run, would be) created, updated and rejected, with each rejected row's line, "
        "column and reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")
        parser.add_argument(
            "--update-existing", action="store_true", help="Update leads whose email exists (any case)."
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="Map a column to a lead field or attr.<name>; 'COLUMN=' ignores it. Repeatable.",
        )
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--json", action="store_true", help="Print the whole report as JSON.")

    def handle(self, *args, **options):
        mapping = {}
        for item in options["map"]:
            if "=" not in item:
                raise CommandError(f"--map takes COLUMN=FIELD, got '{item}'.")
            column, _, target = item.partition("=")
            mapping[column] = target
        if not 1 <= options["batch_size"] <= 50_000:
            raise CommandError("--batch-size must be between 1 and 50000.")
        try:
            handle = open(options["file"], "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"Cannot open {options['file']}: {exc.strerror}.") from exc
        with handle:
            report = leads_import(
                stream=handle,
                dry_run=options["dry_run"],
                update_existing=options["update_existing"],
                mapping=mapping,
                batch_size=options["batch_size"],
            )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
        if report.failure:
            raise CommandError(report.failure)
        if not options["json"]:
            verb = "Would import" if report.dry_run else "Imported"
            self.stdout.write(
                f"{verb} {report.rows} rows: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged, {report.rejected} rejected."
            )
            for error in report.errors[:200]:
                self.stdout.write(f"  row {error.row}, column {error.column}: {error.reason}")
            if report.error_count > min(len(report.errors), 200):
                self.stdout.write(f"  ... {report.error_count - min(len(report.errors), 200)} more errors (use --json)")
