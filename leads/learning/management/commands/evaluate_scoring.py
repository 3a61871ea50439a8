"""`python manage.py evaluate_scoring FILE.csv --target COLUMN --positive VALUE ...`

Measures Baton's learned model (interpret's explainable boosting exported to per-value weights
and two-field tables; see leads/learning/boosting.py) against an Odoo-style naive Bayes
baseline and an off-the-shelf scikit-learn histogram gradient boosting, trained in the same
run on the same rows, on any CSV of leads with an outcome column: a seeded stratified 70/30
split and, with --time-order, per --time-cut F (repeatable, default 0.7) the oldest F of the
file against the rest. Every setting is chosen on the training rows; the test rows are
sealed until the final score. Reads the file only: no database table is read or written (the
command does not even open a connection). The last line printed is one JSON object.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from leads.learning.evaluation import CsvProblem, evaluate, read_outcome_csv

# (JSON name, key in a split's result) of the figures reported for both splits.
SPLIT_FIGURES = (
    ("auc", "auc"),
    ("baseline_nb_auc", "nb_auc"),
    ("reference_nb_text_auc", "text_nb_auc"),
    ("baseline_gb_auc", "gb_auc"),
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
            help="Also evaluate the oldest rows (file order) against the newest, at each --time-cut.",
        )
        parser.add_argument(
            "--time-cut",
            action="append",
            type=float,
            dest="time_cuts",
            metavar="F",
            help="With --time-order: train on the oldest F of the rows, test on the rest (0 < F < 1; "
            "repeatable; default 0.7).",
        )

    def handle(self, *args, **options):
        cuts = tuple(dict.fromkeys(options["time_cuts"] or [0.7]))
        bad = [c for c in cuts if not 0 < c < 1]
        if bad:
            raise CommandError(f"--time-cut must be between 0 and 1 (exclusive), got {bad[0]:g}.")
        if options["time_cuts"] and not options["time_order"]:
            raise CommandError("--time-cut needs --time-order (the rows must be in time order).")
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
        result = evaluate(table, time_order=options["time_order"], time_cuts=cuts)
        splits = [("random", result["random"])] + [(f"time {cut}", split) for cut, split in result["time_cuts"].items()]
        for name, split in splits:
            if "train_rows" in split:
                extra = ""
                if split["time_proxies"]:
                    extra = (
                        f"; time proxies {', '.join(split['time_proxies'])}: chose {split['time_proxy_choice']} "
                        f"on forward slices of the training rows ({split['validation']})"
                    )
                self.stdout.write(
                    f"{name:>8} split: learned AUC {split['auc']}, gradient boosting AUC {split['gb_auc']}, "
                    f"naive Bayes AUC {split['nb_auc']}, naive Bayes on the {len(split['text_columns'])} text "
                    f"columns only {split['text_nb_auc']} (train {split['train_rows']}, test {split['test_rows']}, "
                    f"pairs: {', '.join(split['pairs']) or 'none'}{extra})"
                )
                model = split["model"]
                top = sorted(model.weights.items(), key=lambda kv: -abs(kv[1]))[:5]
                self.stdout.write(
                    "          strongest weights: " + "; ".join(f"{f} = {v}: {w:+.2f}" for (f, v), w in top)
                )
            else:
                self.stdout.write(f"{name:>8} split: {split['note']}")
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
        # Per cut: "auc_time_0.6", "baseline_gb_auc_time_0.6", ... ("<name>_time" is the 0.7 cut).
        for cut, split in result["time_cuts"].items():
            for name, key in SPLIT_FIGURES[:4]:
                summary[f"{name}_time_{cut}"] = split.get(key)
            summary[f"time_proxy_choice_time_{cut}"] = split.get("time_proxy_choice")
        summary["time_proxies_trend_only"] = sorted(
            time_split.get("time_proxies") or {} if time_split.get("time_proxy_choice") == "trend" else {}
        )
        summary["seconds"] = result["seconds"]
        self.stdout.write(json.dumps(summary))
