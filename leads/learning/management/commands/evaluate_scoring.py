"""`python manage.py evaluate_scoring FILE.csv --target COLUMN --positive VALUE ...`

Measures Baton's learned model (a logistic regression and a naive Bayes over the same field
values, blended with equal weights; see leads/learning/learner.py) against an Odoo-style
naive Bayes baseline on any CSV of leads with an outcome column. Reads the file only: no database table is read or written
(the command does not even open a connection). The last line printed is one JSON object.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from leads.learning.evaluation import CsvProblem, evaluate, read_outcome_csv

# (JSON name, key in a split's result) of the figures reported for both splits.
SPLIT_FIGURES = (
    ("auc", "auc"),
    ("baseline_nb_auc", "nb_auc"),
    ("reference_nb_text_auc", "text_nb_auc"),
    ("bins", "bins"),
    ("lambda", "lambda"),
    ("trend_lambda", "trend_lambda"),
    ("naive_bayes_scale", "naive_bayes_scale"),
    ("validation_auc", "validation_auc"),
)


class Command(BaseCommand):
    help = "ROC AUC of the learned model and a naive Bayes baseline on a CSV with an outcome column."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file with a header row.")
        parser.add_argument("--target", required=True, help="The outcome column.")
        parser.add_argument("--positive", required=True, help="The target value that counts as a success.")
        parser.add_argument("--sep", default=",", help="Field separator (default ',').")
        parser.add_argument("--encoding", default="utf-8-sig", help="File encoding (default utf-8).")
        parser.add_argument(
            "--exclude",
            default="",
            help="Comma-separated columns to leave out (e.g. ones only known after the outcome).",
        )
        parser.add_argument(
            "--time-order",
            action="store_true",
            help="Also evaluate oldest 70 %% (file order) against newest 30 %%.",
        )

    def handle(self, *args, **options):
        exclude = tuple(name.strip() for name in options["exclude"].split(",") if name.strip())
        try:
            table = read_outcome_csv(
                options["file"],
                target=options["target"],
                positive=options["positive"],
                sep=options["sep"],
                exclude=exclude,
                encoding=options["encoding"],
            )
        except CsvProblem as exc:
            raise CommandError(str(exc)) from None
        except LookupError:
            raise CommandError(f"--encoding: unknown encoding {options['encoding']!r}.") from None
        positives = int(table.y.sum())
        self.stdout.write(
            f"{len(table.rows)} rows, {positives} positive ({positives / len(table.rows):.1%}), "
            f"{len(table.columns)} feature columns" + (f"; excluded: {', '.join(exclude)}" if exclude else "")
        )
        result = evaluate(table, time_order=options["time_order"])
        for name in ("random", "time"):
            split = result[name]
            if split is None:
                continue
            if "train_rows" in split:
                extra = ""
                if split["time_proxies"]:
                    extra = "; time proxies (trend only, no bins): " + ", ".join(split["time_proxies"])
                self.stdout.write(
                    f"{name:>6} split: learned AUC {split['auc']}, naive Bayes AUC {split['nb_auc']}, "
                    f"naive Bayes on the {len(split['text_columns'])} text columns only {split['text_nb_auc']} "
                    f"(train {split['train_rows']}, test {split['test_rows']}, bins {split['bins']}, "
                    f"lambda {split['lambda']:g}, trend lambda {split['trend_lambda']:g}, "
                    f"naive Bayes half scaled by {split['naive_bayes_scale']:g}; "
                    f"validation AUC on the training rows {split['validation_auc']}{extra})"
                )
                model = split["model"]
                top = sorted(model.weights.items(), key=lambda kv: -abs(kv[1]))[:5]
                self.stdout.write(
                    "        strongest weights: " + "; ".join(f"{f} = {v}: {w:+.2f}" for (f, v), w in top)
                )
            else:
                self.stdout.write(f"{name:>6} split: {split['note']}")
        time_split = result["time"] or {}
        summary = {
            "bench": "evaluate_scoring",
            "rows": len(table.rows),
            "positives": positives,
            "features": len(table.columns),
            "excluded": list(exclude),
        }
        # Each figure of a split as "<name>_random" and "<name>_time" (None without --time-order).
        for name, key in SPLIT_FIGURES:
            summary[f"{name}_random"] = result["random"][key]
            summary[f"{name}_time"] = time_split.get(key)
        summary["time_proxies_trend_only"] = sorted(time_split.get("time_proxies") or {})
        summary["seconds"] = result["seconds"]
        self.stdout.write(json.dumps(summary))
