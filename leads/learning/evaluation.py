"""Offline evaluation of the learned model on any CSV of leads with an outcome column.

Nothing here touches the database: rows are read from the file, split, trained on and scored
in memory. Used by ``manage.py evaluate_scoring``. Training loads interpret and scikit-learn
(``boosting.py``) when a split is evaluated, not when this module is imported.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .learner import CATEGORICAL, NaiveBayes, SealedRows, infer_specs, stratified_split, time_split

MIN_ROWS_PER_CLASS = 10


class CsvProblem(ValueError):
    """The file cannot be evaluated; the message names the problem and, where it helps, the fix."""


@dataclass
class OutcomeTable:
    columns: list[str]
    rows: list[dict]
    y: np.ndarray


def read_outcome_csv(
    path: str | Path,
    *,
    target: str,
    positive: str,
    sep: str = ",",
    exclude: tuple[str, ...] = (),
    encoding: str = "utf-8-sig",
) -> OutcomeTable:
    """Read a CSV with a header row. Refuses (CsvProblem) a missing or empty file, bytes that
    are not in ``encoding``, a separator that splits nothing, rows with the wrong number of
    fields, an unknown target or excluded column, and an outcome with too few of either class."""
    path = Path(path)
    if len(sep) != 1:
        raise CsvProblem(f"--sep must be one character, got {sep!r}.")
    if not path.is_file():
        raise CsvProblem(f"{path}: no such file.")
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvProblem(
            f"{path}: line {line} is not valid {encoding} (byte {raw[exc.start]:#04x} at offset {exc.start}); "
            "pass --encoding (e.g. latin-1) to read it."
        ) from None
    if not text.strip():
        raise CsvProblem(f"{path}: the file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as exc:
        raise CsvProblem(f"{path}: line 1 is not CSV ({exc}).") from None
    if len(header) < 2:
        guesses = [c for c in (",", ";", "\t", "|") if c != sep and c in header[0]]
        hint = f" It looks separated by {guesses[0]!r}: pass --sep '{guesses[0]}'." if guesses else ""
        raise CsvProblem(f"{path}: the header has one column with separator {sep!r}.{hint}")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise CsvProblem(f"{path}: duplicate column(s) in the header: {', '.join(duplicates)}.")
    if target not in header:
        raise CsvProblem(f"{path}: no target column {target!r}; columns are: {', '.join(header)}.")
    unknown = [name for name in exclude if name not in header]
    if unknown:
        raise CsvProblem(f"{path}: --exclude names unknown column(s): {', '.join(unknown)}.")
    rows: list[dict] = []
    try:
        for values in reader:
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise CsvProblem(
                    f"{path}: line {reader.line_num} has {len(values)} fields, the header has {len(header)}."
                )
            rows.append(dict(zip(header, values, strict=True)))
    except csv.Error as exc:
        raise CsvProblem(f"{path}: line {reader.line_num} is not CSV ({exc}).") from None
    if not rows:
        raise CsvProblem(f"{path}: the file has a header but no rows.")
    y = np.array([1 if row[target].strip() == positive else 0 for row in rows])
    positives = int(y.sum())
    if positives == 0:
        seen = sorted({row[target].strip() for row in rows})[:10]
        raise CsvProblem(f"{path}: no row has {target} = {positive!r}; values seen: {', '.join(map(repr, seen))}.")
    if min(positives, len(y) - positives) < MIN_ROWS_PER_CLASS:
        raise CsvProblem(
            f"{path}: too few outcomes of one class to evaluate ({positives} positive, {len(y) - positives} "
            f"negative; at least {MIN_ROWS_PER_CLASS} of each are needed)."
        )
    feature_columns = [name for name in header if name != target and name not in exclude]
    return OutcomeTable(columns=feature_columns, rows=rows, y=y)


def _evaluate_split(table: OutcomeTable, train_idx, test_idx, *, time_ordered: bool) -> dict:
    """Train every model on the training rows with the test rows sealed, then open the seal
    once for the final scores. Nothing chosen here (settings, kinds, bins, text columns) can
    depend on a test row: they are not reachable until ``score``."""
    from .boosting import EBM_SETTINGS, gradient_boosting_baseline, train_ebm

    train_rows = [table.rows[i] for i in train_idx]
    y_train = table.y[train_idx]
    sealed = SealedRows([table.rows[i] for i in test_idx], table.y[test_idx])
    trained = train_ebm(train_rows, y_train, table.columns, time_ordered=time_ordered)
    model = trained.model
    baseline = NaiveBayes(table.columns).fit(train_rows, y_train)
    # A reference, not the baseline: the same naive Bayes over the text columns only, as
    # Odoo's predictive scoring can use only fields with a set of values (no numbers).
    kinds = {spec.name: spec.kind for spec in infer_specs(train_rows, table.columns)}
    text_columns = [name for name in table.columns if kinds[name] == CATEGORICAL]
    predictors = {
        "auc": model.predict,
        "nb_auc": baseline.predict,
        "gb_auc": gradient_boosting_baseline(train_rows, y_train, table.columns),
    }
    if text_columns:
        predictors["text_nb_auc"] = NaiveBayes(text_columns).fit(train_rows, y_train).predict
    scored = sealed.score(predictors)

    def auc(name):
        value = scored[name]["auc"] if name in scored else None
        return None if value is None else round(value, 4)

    return {
        "auc": auc("auc"),
        "nb_auc": auc("nb_auc"),
        "gb_auc": auc("gb_auc"),
        "text_nb_auc": auc("text_nb_auc"),
        "text_columns": text_columns,
        "train_rows": len(train_rows),
        "test_rows": len(sealed),
        "test_positive_rate": round(float(scored["y"].mean()), 4),
        "bins": EBM_SETTINGS["max_bins"],
        "lambda": None,
        "trend_lambda": None,
        "naive_bayes_scale": None,
        # The chosen time-proxy handling's validation AUC on the training rows (forward slices).
        "validation_auc": max(model.info["validation"].values(), default=None),
        "validation": model.info["validation"],
        "time_proxies": model.info["time_proxies"],
        "time_proxy_choice": model.info["time_proxy_choice"],
        "pairs": model.info["pairs"],
        "seal": {"sealed_ns": sealed.sealed_ns, "opened_ns": sealed.opened_ns},
        "test_index": np.asarray(test_idx),
        "model": model,
    }


def cut_key(cut: float) -> str:
    return f"{cut:g}"


def evaluate(table: OutcomeTable, *, time_order: bool, time_cuts: tuple[float, ...] = (0.7,), seed: int = 42) -> dict:
    """Train on 70 % and score 30 %: a stratified split (seeded), and with ``time_order``, per
    cut F of ``time_cuts``, the oldest F (file order) against the rest. Every model (the
    learned one, the naive Bayes and gradient boosting baselines) is trained with the test
    rows sealed (``learner.SealedRows``)."""
    started = time.perf_counter()
    train_idx, test_idx = stratified_split(table.y, test_share=0.3, seed=seed)
    random_split = _evaluate_split(table, train_idx, test_idx, time_ordered=False)
    cuts: dict[str, dict] = {}
    if time_order:
        for cut in time_cuts:
            train_idx, test_idx = time_split(len(table.rows), test_share=1.0 - cut)
            if 0 < table.y[train_idx].sum() < len(train_idx) and 0 < table.y[test_idx].sum() < len(test_idx):
                cuts[cut_key(cut)] = _evaluate_split(table, train_idx, test_idx, time_ordered=True)
            else:
                cuts[cut_key(cut)] = {
                    "auc": None,
                    "nb_auc": None,
                    "gb_auc": None,
                    "text_nb_auc": None,
                    "note": "one side of the time split has a single class",
                }
    main_cut = cut_key(0.7) if cut_key(0.7) in cuts else next(iter(cuts), None)
    return {
        "random": random_split,
        "time": cuts.get(main_cut) if main_cut else None,
        "time_cuts": cuts,
        "seconds": round(time.perf_counter() - started, 2),
    }
