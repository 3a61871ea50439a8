"""Offline evaluation of the learned model on any CSV of leads with an outcome column.

Nothing here touches the database: rows are read from the file, split, trained on and scored
in memory. Used by ``manage.py evaluate_scoring``.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .learner import CATEGORICAL, NaiveBayes, roc_auc, stratified_split, time_split, train_logistic

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
    train_rows = [table.rows[i] for i in train_idx]
    test_rows = [table.rows[i] for i in test_idx]
    y_train, y_test = table.y[train_idx], table.y[test_idx]
    model = train_logistic(train_rows, y_train, table.columns, time_ordered=time_ordered)
    baseline = NaiveBayes(table.columns).fit(train_rows, y_train)
    auc = roc_auc(y_test, model.predict(test_rows))
    nb_auc = roc_auc(y_test, baseline.predict(test_rows))
    # A reference, not the baseline: the same naive Bayes over the text columns only, as
    # Odoo's predictive scoring can use only fields with a set of values (no numbers).
    text_columns = [spec.name for spec in model.specs if spec.kind == CATEGORICAL]
    text_nb_auc = (
        roc_auc(y_test, NaiveBayes(text_columns).fit(train_rows, y_train).predict(test_rows)) if text_columns else None
    )
    return {
        "auc": None if auc is None else round(auc, 4),
        "nb_auc": None if nb_auc is None else round(nb_auc, 4),
        "text_nb_auc": None if text_nb_auc is None else round(text_nb_auc, 4),
        "text_columns": text_columns,
        "train_rows": len(train_rows),
        "test_rows": len(test_rows),
        "test_positive_rate": round(float(y_test.mean()), 4),
        "bins": model.bins,
        "lambda": model.lam,
        "trend_lambda": model.trend_lam,
        "naive_bayes_scale": model.naive_bayes_scale,
        # The chosen settings' validation AUC on the training rows (forward slices when time-ordered).
        "validation_auc": max(model.validation.values(), default=None),
        "time_proxies": model.time_proxies,
        "model": model,
    }


def evaluate(table: OutcomeTable, *, time_order: bool, seed: int = 42) -> dict:
    """Train on 70 % and score 30 %: a stratified split (seeded), and with ``time_order`` also
    the oldest 70 % (file order) against the newest 30 %. Learned model and naive Bayes
    baseline alike."""
    started = time.perf_counter()
    train_idx, test_idx = stratified_split(table.y, test_share=0.3, seed=seed)
    random_split = _evaluate_split(table, train_idx, test_idx, time_ordered=False)
    time_result = None
    if time_order:
        train_idx, test_idx = time_split(len(table.rows), test_share=0.3)
        if 0 < table.y[train_idx].sum() < len(train_idx) and 0 < table.y[test_idx].sum() < len(test_idx):
            time_result = _evaluate_split(table, train_idx, test_idx, time_ordered=True)
        else:
            time_result = {
                "auc": None,
                "nb_auc": None,
                "text_nb_auc": None,
                "note": "one side of the time split has a single class",
            }
    return {
        "random": random_split,
        "time": time_result,
        "seconds": round(time.perf_counter() - started, 2),
    }
