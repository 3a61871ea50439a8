"""What a learned model is once trained: per-field-value weights, two-field tables and a few
trends, applied as one sum. Pure Python + numpy and nothing about Django or the training
libraries, so the web process (lead pages, explanations) can read a model without loading
them; training lives in ``boosting.py`` (worker and management commands only).

Encoding. Each field is read as *values*: a categorical field by its text value (values seen
fewer than ``DEFAULT_MIN_COUNT`` times in training, and values never seen, share the value
``(other)``), a numeric field by the bin of the trained cut points it falls in, and a missing
value (also a number field holding something that is not a number) as the value
``(missing)`` of its own. A pair term reads two fields the same way, numbers by the pair's
own coarser cut points. A numeric field may instead enter by a *trend*: one slope on its
value standardised by the training mean and standard deviation (clamped to the training
range widened by that range on either side; missing counts as the mean), so values beyond
the training range are still ordered (the time-proxy handling of ``boosting.py``).

A lead's learned logit is therefore ``intercept + sum(weight of each of its field values) +
sum(weight of each pair of values) + sum(slope * standardised value)`` and its probability
the sigmoid of that: the sum the SQL application computes, and the reasons a rep reads
("industry = software: +0.42", "industry x employees = software x 50 to < 250: +0.11").

Baseline. ``NaiveBayes`` is a per-field naive Bayes of Odoo's kind: per field/value won and
lost counts plus 0.1, unset values skipped.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

# The matrices here are small; BLAS threads only add contention with the web and worker
# processes on the same cores. Takes effect when this module is the first to import numpy.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

MISSING = "(missing)"
OTHER = "(other)"
CATEGORICAL = "categorical"
NUMERIC = "numeric"
TREND = "(trend)"
PAIR_SEPARATOR = " x "
DEFAULT_BINS = 10
# With time-ordered training, a numeric field that tells newer rows from older ones this
# well is a proxy for the period (see time_proxy_scores).
TIME_PROXY_LIMIT = 0.9
# Categorical values seen fewer times than this in training get no weight of their own.
DEFAULT_MIN_COUNT = 5
# A column is numeric when at least this share of its non-missing training values are numbers.
NUMERIC_SHARE = 0.95


def is_missing(value) -> bool:
    return (
        value is None
        or (isinstance(value, str) and value.strip() == "")
        or (isinstance(value, float) and math.isnan(value))
    )


def as_number(value) -> float | None:
    """A finite float for a number or a numeric string; None otherwise (booleans are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def categorical_token(value) -> str | None:
    """The text a categorical field is read by; MISSING when unset, None when it has none."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)):
        return str(value)
    return None


def bin_label(edges: Sequence[float], index: int) -> str:
    lower = edges[index - 1] if index > 0 else None
    upper = edges[index] if index < len(edges) else None
    if lower is None and upper is None:
        return "any"
    if lower is None:
        return f"< {upper:g}"
    if upper is None:
        return f">= {lower:g}"
    return f"{lower:g} to < {upper:g}"


@dataclass
class FeatureSpec:
    """How one field is read: categorical ``values`` (anything else is ``(other)``), or
    numeric bins by ``edges`` (bin ``i`` holds ``edges[i-1] <= x < edges[i]``, open at both
    ends, so ``len(edges) + 1`` bins) and, in pair terms, by ``pair_edges``."""

    name: str
    kind: str
    edges: list[float] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    # Exact: values as stored in a database (no trimming; numbers only as numbers, text only
    # as text), so that SQL matches the very same rows.
    exact: bool = False
    # Numeric fields: False when the field enters only by its trend.
    binned: bool = True
    pair_edges: list[float] = field(default_factory=list)
    # The trend of a numeric field: (clamp(x, low, high) - center) / scale.
    center: float | None = None
    scale: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def has_trend(self) -> bool:
        return self.kind == NUMERIC and self.scale is not None

    def number(self, value) -> float | None:
        """The value as a number; None when it is none (missing, or not a number)."""
        if self.exact:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                return None
            return float(value)
        return None if is_missing(value) else as_number(value)

    def trend_value(self, value) -> float:
        """The standardised value the trend slope multiplies (0 when missing or not a number)."""
        number = self.number(value) if self.has_trend else None
        if number is None:
            return 0.0
        return (min(max(number, self.low), self.high) - self.center) / self.scale

    def bin_bounds(self, index: int, *, pair: bool = False) -> tuple[float | None, float | None]:
        edges = self.pair_edges if pair else self.edges
        lower = edges[index - 1] if index > 0 else None
        upper = edges[index] if index < len(edges) else None
        return lower, upper

    def bin_label(self, index: int, *, pair: bool = False) -> str:
        return bin_label(self.pair_edges if pair else self.edges, index)

    def text(self, value) -> str | None:
        """A categorical value's text before the known values are applied (None: no text)."""
        if self.exact:
            if value is None or value == "":
                return MISSING
            if isinstance(value, bool):
                return "true" if value else "false"
            return value if isinstance(value, str) else None
        return categorical_token(value)

    def token(self, value, *, pair: bool = False) -> str:
        """The value this field's weight is looked up by (in a pair term with ``pair``)."""
        if self.kind == NUMERIC:
            number = self.number(value)
            if number is None:
                return MISSING
            edges = self.pair_edges if pair else self.edges
            return bin_label(edges, int(np.searchsorted(edges, number, side="right")))
        text = self.text(value)
        if text == MISSING:
            return MISSING
        return text if text in self._known else OTHER

    def tokens(self, *, pair: bool = False) -> list[str]:
        """Every value this field can be read as, in weight-table order."""
        if self.kind == NUMERIC:
            edges = self.pair_edges if pair else self.edges
            return [bin_label(edges, i) for i in range(len(edges) + 1)] + [MISSING]
        return [*self.values, OTHER, MISSING]

    @property
    def _known(self) -> frozenset:
        known = self.__dict__.get("_known_values")
        if known is None or known[0] is not self.values:
            known = (self.values, frozenset(self.values))
            self.__dict__["_known_values"] = known
        return known[1]

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "edges": self.edges,
            "values": self.values,
            "exact": self.exact,
            "binned": self.binned,
            "pair_edges": self.pair_edges,
            "center": self.center,
            "scale": self.scale,
            "low": self.low,
            "high": self.high,
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeatureSpec:
        return cls(
            name=data["name"],
            kind=data["kind"],
            edges=list(data.get("edges", [])),
            values=list(data.get("values", [])),
            exact=bool(data.get("exact", False)),
            binned=bool(data.get("binned", True)),
            pair_edges=list(data.get("pair_edges", [])),
            center=data.get("center"),
            scale=data.get("scale"),
            low=data.get("low"),
            high=data.get("high"),
        )


def quantile_edges(numbers: Sequence[float], bins: int) -> list[float]:
    """Cut points at the quantiles of ``numbers`` (a value holding a bin's share gets its own
    bin). Used to score time proxies, not to bin the model (the library bins it)."""
    if len(numbers) == 0 or bins < 2:
        return []
    array = np.sort(np.asarray(numbers, dtype=float))
    distinct, counts = np.unique(array, return_counts=True)
    if len(distinct) <= bins:
        return [float(v) for v in distinct[1:]]
    edges: set[float] = set()
    mass = distinct[counts >= len(array) / bins]
    for value in mass:
        position = int(np.searchsorted(distinct, value))
        edges.add(float(value))
        if position + 1 < len(distinct):
            edges.add(float(distinct[position + 1]))
    rest = array[~np.isin(array, mass)]
    remaining_bins = bins - len(mass)
    if len(rest) and remaining_bins >= 2:
        qs = np.quantile(rest, np.linspace(0, 1, remaining_bins + 1)[1:-1], method="nearest")
        edges.update(float(q) for q in qs)
    low = float(array[0])
    return sorted(edge for edge in edges if edge > low)


def infer_specs(
    rows: Sequence[dict],
    fields: Iterable[str],
    *,
    bins: int = DEFAULT_BINS,
    min_count: int = DEFAULT_MIN_COUNT,
    numeric_share: float = NUMERIC_SHARE,
    kinds: dict[str, str] | None = None,
    exact: bool = False,
    trend_only: Iterable[str] = (),
) -> list[FeatureSpec]:
    """Decide per field, from the training rows only, whether it is numeric or categorical,
    its known values (categorical) and provisional quantile ``edges`` (numeric; the trainer
    replaces them by its own cut points). ``kinds`` fixes the kind of some fields; ``exact``
    reads values exactly as a database stores them; numeric fields in ``trend_only`` get a
    trend and no bins."""
    kinds = kinds or {}
    trend_only = set(trend_only)
    specs = []
    for name in fields:
        present = [row.get(name) for row in rows if not is_missing(row.get(name))]
        if exact:
            numbers = [float(v) for v in present if isinstance(v, (int, float)) and not isinstance(v, bool)]
        else:
            numbers = [n for n in (as_number(v) for v in present) if n is not None]
        numbers = [n for n in numbers if math.isfinite(n)]
        kind = kinds.get(name) or (
            NUMERIC
            if present and len(numbers) >= numeric_share * len(present) and len(set(numbers)) > 2
            else CATEGORICAL
        )
        if kind == NUMERIC:
            binned = name not in trend_only
            spec = FeatureSpec(
                name=name,
                kind=NUMERIC,
                edges=quantile_edges(numbers, bins) if binned else [],
                exact=exact,
                binned=binned,
            )
            if not binned and numbers and np.std(numbers) > 0:
                low, high = float(min(numbers)), float(max(numbers))
                spec.center, spec.scale = float(np.mean(numbers)), float(np.std(numbers))
                spec.low, spec.high = low - (high - low), high + (high - low)
            specs.append(spec)
        else:
            probe = FeatureSpec(name=name, kind=CATEGORICAL, exact=exact)
            counts = Counter(probe.text(v) for v in present)
            counts.pop(None, None)
            counts.pop(MISSING, None)
            counts.pop(OTHER, None)
            values = sorted(v for v, c in counts.items() if c >= min_count)
            specs.append(FeatureSpec(name=name, kind=CATEGORICAL, values=values, exact=exact))
    return specs


def time_proxy_scores(
    rows: Sequence[dict],
    fields: Iterable[str],
    *,
    bins: int = DEFAULT_BINS,
    kinds: dict[str, str] | None = None,
    exact: bool = False,
) -> dict[str, float]:
    """How well each numeric field alone tells the newest 20 % of (time-ordered) rows from the
    older 80 %: the ROC AUC of its per-bin share of new rows. A field near 1.0 names the
    period rather than the lead (a rate of the day); bins learned on the past cannot describe
    the future. Categorical fields are not scored: a value never seen in training reads as
    ``(other)``, so they carry little of the past period into a new one."""
    n = len(rows)
    newer = np.zeros(n)
    newer[int(round(n * 0.8)) :] = 1
    scores = {}
    for spec in infer_specs(rows, fields, bins=bins, min_count=DEFAULT_MIN_COUNT, kinds=kinds, exact=exact):
        if spec.kind != NUMERIC:
            continue
        tokens = [spec.token(row.get(spec.name)) for row in rows]
        totals: Counter = Counter(tokens)
        new_counts: Counter = Counter(t for t, is_new in zip(tokens, newer, strict=True) if is_new)
        share = np.array([new_counts[t] / totals[t] for t in tokens])
        scores[spec.name] = roc_auc(newer, share) or 0.5
    return scores


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


@dataclass
class PairTerm:
    """A two-field table: the weight of each (value of ``first``, value of ``second``)."""

    first: str
    second: str
    weights: dict[tuple[str, str], float]

    @property
    def name(self) -> str:
        return f"{self.first}{PAIR_SEPARATOR}{self.second}"


@dataclass
class AdditiveModel:
    """A trained model as the weights the SQL scorer applies (see the module docstring)."""

    specs: list[FeatureSpec]
    weights: dict[tuple[str, str], float]
    intercept: float
    pairs: list[PairTerm] = field(default_factory=list)
    # How it was trained and chosen (settings, validation figures), for the version's metrics.
    info: dict = field(default_factory=dict)

    def logit(self, row: dict) -> float:
        return self.intercept + sum(weight for _, _, weight in self.contributions(row))

    def contributions(self, row: dict) -> list[tuple[str, str, float]]:
        """(field, value, weight) of each field value of this row that has a weight; a trend
        gives ``(field, "<value> (trend)", slope * standardised value)`` when not zero; a
        pair ``("a x b", "<value of a> x <value of b>", weight)``."""
        out = []
        by_name = {}
        for spec in self.specs:
            by_name[spec.name] = spec
            value = row.get(spec.name)
            if spec.kind == CATEGORICAL or spec.binned:
                token = spec.token(value)
                weight = self.weights.get((spec.name, token))
                if weight is not None:
                    out.append((spec.name, token, weight))
            slope = self.weights.get((spec.name, TREND)) if spec.has_trend else None
            if slope:
                standardised = spec.trend_value(value)
                if standardised:
                    out.append((spec.name, f"{spec.number(value):g} {TREND}", slope * standardised))
        for pair in self.pairs:
            first, second = by_name[pair.first], by_name[pair.second]
            key = (first.token(row.get(pair.first), pair=True), second.token(row.get(pair.second), pair=True))
            weight = pair.weights.get(key)
            if weight is not None:
                out.append((pair.name, f"{key[0]}{PAIR_SEPARATOR}{key[1]}", weight))
        return out

    def predict(self, rows: Sequence[dict]) -> np.ndarray:
        return sigmoid(np.array([self.logit(row) for row in rows], dtype=float))

    def weight_rows(self) -> list[dict]:
        """The per-value weights table: one row per (field, value) with its definition."""
        out = []
        for spec in self.specs:
            if spec.kind == NUMERIC:
                for i in range(len(spec.edges) + 1) if spec.binned else ():
                    lower, upper = spec.bin_bounds(i)
                    out.append(self._row(spec, spec.bin_label(i), lower, upper))
                if spec.binned:
                    out.append(self._row(spec, MISSING, None, None, is_missing=True))
                if spec.has_trend:
                    # The slope per standard deviation; center and scale are in the spec.
                    out.append(self._row(spec, TREND, spec.low, spec.high, kind="trend"))
            else:
                for value in (*spec.values, OTHER):
                    out.append(self._row(spec, value, None, None))
                out.append(self._row(spec, MISSING, None, None, is_missing=True))
        return out

    def _row(self, spec, value, lower, upper, *, is_missing=False, kind=None) -> dict:
        return {
            "feature": spec.name,
            "kind": kind or spec.kind,
            "value": value,
            "lower": lower,
            "upper": upper,
            "is_missing": is_missing,
            "weight": self.weights.get((spec.name, value), 0.0),
        }

    def pair_rows(self) -> list[dict]:
        """The two-field tables: one row per (pair, value of the first, value of the second)."""
        return [
            {"first": pair.first, "second": pair.second, "first_value": a, "second_value": b, "weight": weight}
            for pair in self.pairs
            for (a, b), weight in pair.weights.items()
        ]


# --- Sealed test rows --------------------------------------------------------------------------


class SealedRowsError(RuntimeError):
    """Test rows were read before the final score, or scored twice."""


class SealedRows:
    """The test side of a split: nothing can read its rows or outcomes until ``score``, which
    opens it once, after every model and setting has been chosen on the training rows. The
    seal is a discipline the evaluation code cannot skip by accident: the rows are only
    reachable through ``score``; ``tests/learning/test_sealed_rows.py`` also checks that no
    test row is read while the seal is closed."""

    def __init__(self, rows: Sequence[dict], y: Sequence[int]):
        self.__rows = list(rows)
        self.__y = np.asarray(y, dtype=float)
        self.sealed_ns = time.perf_counter_ns()
        self.opened_ns: int | None = None

    def __len__(self) -> int:
        return len(self.__rows)

    def __iter__(self):
        raise SealedRowsError("The test rows are sealed until the final score (SealedRows.score).")

    def __getitem__(self, index):
        raise SealedRowsError("The test rows are sealed until the final score (SealedRows.score).")

    @property
    def is_open(self) -> bool:
        return self.opened_ns is not None

    def score(self, predictors: dict[str, Callable[[list[dict]], Sequence[float]]]) -> dict:
        """Open the seal (once) and return, per predictor name, its predictions and ROC AUC on
        the test rows, plus ``y`` (the test outcomes)."""
        if self.is_open:
            raise SealedRowsError("These test rows were scored already; a second look would tune on them.")
        self.opened_ns = time.perf_counter_ns()
        out: dict = {"y": self.__y}
        for name, predict in predictors.items():
            p = np.asarray(predict(self.__rows), dtype=float)
            out[name] = {"p": p, "auc": roc_auc(self.__y, p)}
        return out


# --- Measures and splits ---------------------------------------------------------------------


def roc_auc(y_true: Sequence[int], scores: Sequence[float]) -> float | None:
    """Rank-based ROC AUC (Mann-Whitney U) with average ranks for ties; None for one class."""
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(scores, dtype=float)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    sorted_scores = s[order]
    ranks = np.empty(len(s))
    # Average rank within each run of equal scores.
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(s)]))
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def stratified_split(y: Sequence[int], *, test_share: float = 0.3, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Row indexes (train, test): ``test_share`` of each class to the test side, seeded."""
    y = np.asarray(y, dtype=bool)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in (True, False):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_share))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def time_split(n: int, *, test_share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Rows are in time order: the oldest (1 - test_share) train, the newest test."""
    cut = int(round(n * (1 - test_share)))
    return np.arange(cut), np.arange(cut, n)


class NaiveBayes:
    """Odoo-style per-field naive Bayes: per field/value won and lost counts plus 0.1; a
    field whose value is unset is skipped, as is a value never seen in training."""

    SMOOTHING = 0.1

    def __init__(self, fields: Iterable[str]):
        self.fields = list(fields)

    @staticmethod
    def _value(value) -> str | None:
        return None if is_missing(value) else str(value).strip()

    def fit(self, rows: Sequence[dict], y: Sequence[int]) -> NaiveBayes:
        self.won = int(sum(1 for v in y if v))
        self.lost = len(y) - self.won
        self.counts: dict[str, dict[str, list[float]]] = {}
        for name in self.fields:
            table: dict[str, list[float]] = {}
            for row, outcome in zip(rows, y, strict=True):
                value = self._value(row.get(name))
                if value is None:
                    continue
                entry = table.setdefault(value, [self.SMOOTHING, self.SMOOTHING])
                entry[0 if outcome else 1] += 1
            self.counts[name] = table
        self.totals = {
            name: (sum(e[0] for e in table.values()), sum(e[1] for e in table.values()))
            for name, table in self.counts.items()
        }
        return self

    def predict(self, rows: Sequence[dict]) -> np.ndarray:
        base = math.log(max(self.won, 1e-9)) - math.log(max(self.lost, 1e-9))
        out = np.empty(len(rows))
        for i, row in enumerate(rows):
            log_odds = base
            for name in self.fields:
                value = self._value(row.get(name))
                entry = self.counts[name].get(value) if value is not None else None
                if entry is None:
                    continue
                won_total, lost_total = self.totals[name]
                log_odds += math.log(entry[0] / won_total) - math.log(entry[1] / lost_total)
            out[i] = log_odds
        return sigmoid(out)


def calibration_by_decile(y: Sequence[int], p: Sequence[float]) -> list[dict]:
    """Ten groups by predicted probability (lowest first): count, mean predicted, observed rate."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(p) == 0:
        return []
    order = np.argsort(p, kind="mergesort")
    out = []
    for decile, chunk in enumerate(np.array_split(order, 10), start=1):
        if len(chunk) == 0:
            continue
        out.append(
            {
                "decile": decile,
                "count": int(len(chunk)),
                "predicted": round(float(p[chunk].mean()), 4),
                "observed": round(float(y[chunk].mean()), 4),
            }
        )
    return out


def lift_table(y: Sequence[int], p: Sequence[float]) -> list[dict]:
    """Ten groups by score, best first: positive rate, lift over the overall rate, and the
    cumulative share of all positives captured down to that group."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    total_pos = y.sum()
    if len(p) == 0 or total_pos == 0:
        return []
    base = float(total_pos) / len(y)
    order = np.argsort(-p, kind="mergesort")
    out, captured = [], 0.0
    for decile, chunk in enumerate(np.array_split(order, 10), start=1):
        if len(chunk) == 0:
            continue
        rate = float(y[chunk].mean())
        captured += float(y[chunk].sum())
        out.append(
            {
                "decile": decile,
                "count": int(len(chunk)),
                "positive_rate": round(rate, 4),
                "lift": round(rate / base, 2),
                "cumulative_capture": round(captured / float(total_pos), 4),
            }
        )
    return out
