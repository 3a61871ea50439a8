"""The learner: explainable per-value weights, trained from rows of (features, outcome).

Pure Python + numpy and nothing about Django, so the evaluation command and the in-app
training share it.

Encoding. Each field is one-hot encoded as *values*: a categorical field by its text value,
a numeric field by the training-set quantile bin it falls in, and a missing value as the
value ``(missing)`` of its own. A numeric field also has a *trend*: one slope on its value
standardised by the training mean and standard deviation (clamped to the training range
widened by that range on either side; missing counts as the mean), so values beyond the
training range are still ordered. A lead's learned logit is therefore
``intercept + sum(weight of each of its field values) + sum(slope * standardised value)`` and
its probability the sigmoid of that: the same sum the SQL application computes, and the
reasons a rep reads ("industry = software: +0.42", "employees (trend) = 250: -0.03").

Model. The equal-weight blend of two explainable models over the same field values: an
L2-regularised logistic regression fitted by Newton's method (each value's weight given the
other fields) and a naive Bayes (each value's own won/lost log ratio, add-one smoothed per
field, scaled by one slope fitted on out-of-fold sums so that fields repeating each other are
not counted twice and a field with no signal adds nothing). Both are sums of per-value
weights, so the blend is too: one weight per value, the average of the two. Regression alone
reads conditional effects that can offset each other and move when the market moves; the
naive Bayes half reads each value by itself (what Odoo's predictive scoring does). Averaging
two models with different biases is the textbook hedge when validation cannot say which one
the next period favours, and equal weights are the standard default for such a combination.
The number of bins and the two regularisation strengths (field values, trends) of the
regression are picked from fixed grids by internal validation of the *blend* on the
*training* rows only (several forward time slices when the training rows are time-ordered),
so no holdout row is ever looked at while fitting.

Baseline. ``NaiveBayes`` is a per-field naive Bayes of Odoo's kind: per field/value won and
lost counts plus 0.1, unset values skipped.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# The matrices here are small (rows x field values); BLAS threads only add contention with
# the web and worker processes on the same cores (measured: 0.4 s vs 1 ms per product on a
# loaded 2-core host). Takes effect when this module is the first to import numpy.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

MISSING = "(missing)"
CATEGORICAL = "categorical"
NUMERIC = "numeric"

# Regularisation strengths tried (the L2 penalty is lam/2 * |w|^2 on the summed
# log-likelihood, i.e. a Gaussian prior of variance 1/lam on each weight).
DEFAULT_LAMBDAS = (3.0, 10.0, 30.0)
# ... and for the trend slopes of numeric fields (per standard deviation).
DEFAULT_TREND_LAMBDAS = (1.0, 10.0, 100.0)
DEFAULT_BINS = 10
DEFAULT_BINS_GRID = (10, 20, 40)
# With time-ordered training, a numeric field that tells newer rows from older ones this
# well is a proxy for the period (see time_proxy_scores): it keeps its trend but not its bins.
TIME_PROXY_LIMIT = 0.9
# Forward validation slices of time-ordered training rows: (train up to, validate up to),
# as shares of the rows; a choice is scored by its mean ROC AUC over the slices.
TIME_SLICES = ((0.55, 0.7), (0.7, 0.85), (0.85, 1.0))
TREND = "(trend)"
# The share of the logistic regression in the blend (the rest is the scaled naive Bayes).
LOGISTIC_SHARE = 0.5
# Folds for the naive Bayes half's out-of-fold scale.
NAIVE_BAYES_FOLDS = 5
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
    """The text value a categorical field is one-hot encoded by; None when it has none."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)):
        return str(value)
    return None


@dataclass
class FeatureSpec:
    """How one field is encoded: categorical values, or numeric bins by ``edges``.

    Numeric bin ``i`` holds ``edges[i-1] <= x < edges[i]`` (open at both ends), so
    ``len(edges) + 1`` bins."""

    name: str
    kind: str
    edges: list[float] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    # Exact: values as stored in a database (no trimming; numbers only as numbers, text only
    # as text), so that SQL matches the very same rows.
    exact: bool = False
    # Numeric fields: False for a time proxy, which keeps only its trend.
    binned: bool = True
    # The trend of a numeric field: (clamp(x, low, high) - center) / scale.
    center: float | None = None
    scale: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def has_trend(self) -> bool:
        return self.kind == NUMERIC and self.scale is not None

    def number(self, value) -> float | None:
        """The value as a number, read as ``token`` reads it; None when it is none."""
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

    def bin_bounds(self, index: int) -> tuple[float | None, float | None]:
        lower = self.edges[index - 1] if index > 0 else None
        upper = self.edges[index] if index < len(self.edges) else None
        return lower, upper

    def bin_label(self, index: int) -> str:
        lower, upper = self.bin_bounds(index)
        if lower is None and upper is None:
            return "any"
        if lower is None:
            return f"< {upper:g}"
        if upper is None:
            return f">= {lower:g}"
        return f"{lower:g} to < {upper:g}"

    def token(self, value) -> str | None:
        """The value this field's weight is looked up by; None = no weight (unseen value)."""
        if self.exact:
            return self._exact_token(value)
        if self.kind == NUMERIC:
            if is_missing(value):
                return MISSING
            number = as_number(value)
            if number is None:
                return None
            return self.bin_label(int(np.searchsorted(self.edges, number, side="right")))
        return categorical_token(value)

    def _exact_token(self, value) -> str | None:
        if value is None or value == "":
            return MISSING
        if self.kind == NUMERIC:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                return None
            return self.bin_label(int(np.searchsorted(self.edges, float(value), side="right")))
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "edges": self.edges,
            "values": self.values,
            "exact": self.exact,
            "binned": self.binned,
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
            center=data.get("center"),
            scale=data.get("scale"),
            low=data.get("low"),
            high=data.get("high"),
        )


def quantile_edges(numbers: Sequence[float], bins: int) -> list[float]:
    """Cut points at the training set's quantiles.

    A value that alone holds at least a bin's share of the rows (a mass point such as 0
    previous contacts, or 999 meaning "never") gets a bin of its own, and the remaining
    values are cut at their own quantiles, so heavy ties do not swallow the informative
    tail."""
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
    # An edge at the minimum would make an empty lowest bin.
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
    unbinned: Iterable[str] = (),
) -> list[FeatureSpec]:
    """Decide per field whether it is numeric or categorical and fix its bins / values and a
    numeric field's trend, from the training rows only. ``kinds`` fixes the kind of some
    fields; ``exact`` makes specs that read values exactly as a database stores them (see
    ``FeatureSpec.exact``); numeric fields in ``unbinned`` keep only their trend."""
    kinds = kinds or {}
    unbinned = set(unbinned)
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
            binned = name not in unbinned
            spec = FeatureSpec(
                name=name,
                kind=NUMERIC,
                edges=quantile_edges(numbers, bins) if binned else [],
                exact=exact,
                binned=binned,
            )
            if numbers and np.std(numbers) > 0:
                low, high = float(min(numbers)), float(max(numbers))
                spec.center, spec.scale = float(np.mean(numbers)), float(np.std(numbers))
                spec.low, spec.high = low - (high - low), high + (high - low)
            specs.append(spec)
        else:
            probe = FeatureSpec(name=name, kind=CATEGORICAL, exact=exact)
            counts = Counter(probe.token(v) for v in present)
            counts.pop(None, None)
            counts.pop(MISSING, None)
            values = sorted(v for v, c in counts.items() if c >= min_count)
            specs.append(FeatureSpec(name=name, kind=CATEGORICAL, values=values, exact=exact))
    return specs


class Encoder:
    """Maps rows to column indexes of a one-hot design: one column per (field, value)."""

    def __init__(self, specs: Sequence[FeatureSpec]):
        self.specs = list(specs)
        self.columns: list[tuple[str, str]] = []
        self.index: dict[tuple[str, str], int] = {}
        # The columns of each spec, in spec order.
        self.spans: list[slice] = []
        for spec in self.specs:
            if spec.kind == NUMERIC:
                bins = range(len(spec.edges) + 1) if spec.binned else ()
                tokens = [spec.bin_label(i) for i in bins] + [MISSING]
            else:
                tokens = list(spec.values) + ([MISSING] if MISSING not in spec.values else [])
            start = len(self.columns)
            for token in tokens:
                self.index[(spec.name, token)] = len(self.columns)
                self.columns.append((spec.name, token))
            self.spans.append(slice(start, len(self.columns)))
        self.trend_specs = [spec for spec in self.specs if spec.has_trend]

    @property
    def width(self) -> int:
        return len(self.columns)

    def encode_trends(self, rows: Sequence[dict]) -> np.ndarray:
        """An (n_rows, n_trends) float array of standardised numeric values."""
        out = np.zeros((len(rows), len(self.trend_specs)))
        for j, spec in enumerate(self.trend_specs):
            out[:, j] = [spec.trend_value(row.get(spec.name)) for row in rows]
        return out

    def encode(self, rows: Sequence[dict]) -> np.ndarray:
        """An (n_rows, n_fields) int array of column indexes; -1 where the value has no column."""
        out = np.full((len(rows), len(self.specs)), -1, dtype=np.int64)
        for j, spec in enumerate(self.specs):
            for i, row in enumerate(rows):
                token = spec.token(row.get(spec.name))
                if token is not None:
                    out[i, j] = self.index.get((spec.name, token), -1)
        return out


def _dense(codes: np.ndarray, width: int, trends: np.ndarray | None = None) -> np.ndarray:
    """The full design of a block of rows: one-hot columns, trend columns, intercept."""
    n = codes.shape[0]
    k = 0 if trends is None else trends.shape[1]
    x = np.zeros((n, width + k + 1))
    rows = np.repeat(np.arange(n), codes.shape[1])
    cols = codes.ravel()
    keep = cols >= 0
    x[rows[keep], cols[keep]] = 1.0
    if k:
        x[:, width : width + k] = trends
    x[:, width + k] = 1.0  # intercept
    return x


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


HESSIAN_CHUNK_ROWS = 20_000


def _logits(codes: np.ndarray, trends: np.ndarray, beta: np.ndarray, width: int) -> np.ndarray:
    # One-hot rows make x @ beta a sum of looked-up weights; code -1 (no column) reads the
    # appended 0.
    k = trends.shape[1]
    return beta[-1] + np.append(beta[:width], 0.0)[codes].sum(axis=1) + trends @ beta[width : width + k]


def fit_logistic(
    codes: np.ndarray,
    y: np.ndarray,
    width: int,
    lam: float,
    *,
    trends: np.ndarray | None = None,
    trend_lam: float = 1.0,
    iterations: int = 50,
) -> np.ndarray:
    """Newton's method on the L2-penalised log-likelihood; the intercept (last) is unpenalised.
    Coefficients: ``width`` one-hot weights, then one slope per column of ``trends`` (penalty
    ``trend_lam``), then the intercept.

    Works on the column indexes, never on a full dense design: logits and gradients are
    lookups and ``bincount``s, and the Hessian is summed over dense blocks of
    ``HESSIAN_CHUNK_ROWS`` rows, so memory stays bounded for a million outcomes."""
    if trends is None:
        trends = np.zeros((len(y), 0))
    k = trends.shape[1]
    beta = np.zeros(width + k + 1)
    beta[-1] = _base_logit(y)
    penalty = np.full(width + k + 1, lam)
    penalty[width : width + k] = trend_lam
    penalty[-1] = 1e-8
    flat = codes.ravel()
    valid = flat >= 0
    flat_valid = flat[valid]

    def objective(b):
        z = _logits(codes, trends, b, width)
        # log(1 + e^z) - y z, computed without overflow
        return float(np.sum(np.logaddexp(0, z) - y * z) + 0.5 * np.sum(penalty * b * b))

    current = objective(beta)
    for _ in range(iterations):
        p = sigmoid(_logits(codes, trends, beta, width))
        residual = p - y
        gradient = np.empty(width + k + 1)
        per_cell = np.repeat(residual, codes.shape[1])[valid]
        gradient[:width] = np.bincount(flat_valid, weights=per_cell, minlength=width)
        gradient[width : width + k] = trends.T @ residual
        gradient[-1] = residual.sum()
        gradient += penalty * beta
        w = p * (1 - p)
        hessian = np.diag(penalty)
        for start in range(0, len(y), HESSIAN_CHUNK_ROWS):
            block = slice(start, start + HESSIAN_CHUNK_ROWS)
            x = _dense(codes[block], width, trends[block])
            hessian += (x * w[block, None]).T @ x
        step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        # Damped Newton: halve the step until the penalised loss goes down.
        scale = 1.0
        while scale > 1e-4:
            candidate = beta - scale * step
            value = objective(candidate)
            if value <= current + 1e-12:
                break
            scale /= 2
        else:
            break
        beta, improvement, current = candidate, current - value, value
        if np.max(np.abs(scale * step)) < 1e-6 or improvement < 1e-9:
            break
    return beta


def _base_logit(y: np.ndarray) -> float:
    """The log odds of the outcome rate, kept finite for a single class or no rows."""
    prior = y.mean() if len(y) else 0.5
    prior = min(max(prior, 1e-6), 1 - 1e-6)
    return math.log(prior / (1 - prior))


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


@dataclass
class LogisticModel:
    specs: list[FeatureSpec]
    weights: dict[tuple[str, str], float]
    intercept: float
    lam: float
    bins: int = DEFAULT_BINS
    trend_lam: float | None = None
    validation: dict = field(default_factory=dict)
    time_proxies: dict = field(default_factory=dict)
    # The slope on the naive Bayes half of the blend (0: that half adds nothing).
    naive_bayes_scale: float | None = None

    def logit(self, row: dict) -> float:
        return self.intercept + sum(weight for _, _, weight in self.contributions(row))

    def contributions(self, row: dict) -> list[tuple[str, str, float]]:
        """(field, value, weight) of each field value of this row that has a weight; a trend
        gives ``(field, "<value> (trend)", slope * standardised value)`` when not zero."""
        out = []
        for spec in self.specs:
            value = row.get(spec.name)
            token = spec.token(value)
            weight = self.weights.get((spec.name, token)) if token is not None else None
            if weight is not None:
                out.append((spec.name, token, weight))
            slope = self.weights.get((spec.name, TREND)) if spec.has_trend else None
            if slope:
                standardised = spec.trend_value(value)
                if standardised:
                    out.append((spec.name, f"{spec.number(value):g} {TREND}", slope * standardised))
        return out

    def predict(self, rows: Sequence[dict]) -> np.ndarray:
        return sigmoid(np.array([self.logit(row) for row in rows], dtype=float))

    def weight_rows(self) -> list[dict]:
        """The weights table: one row per (field, value) with its SQL-matchable definition."""
        out = []
        for spec in self.specs:
            if spec.kind == NUMERIC:
                for i in range(len(spec.edges) + 1) if spec.binned else ():
                    label = spec.bin_label(i)
                    lower, upper = spec.bin_bounds(i)
                    out.append(
                        {
                            "feature": spec.name,
                            "kind": NUMERIC,
                            "value": label,
                            "lower": lower,
                            "upper": upper,
                            "is_missing": False,
                            "weight": self.weights.get((spec.name, label), 0.0),
                        }
                    )
                out.append(self._missing_row(spec))
                if spec.has_trend:
                    # The slope per standard deviation; center and scale are in the spec.
                    out.append(
                        {
                            "feature": spec.name,
                            "kind": "trend",
                            "value": TREND,
                            "lower": spec.low,
                            "upper": spec.high,
                            "is_missing": False,
                            "weight": self.weights.get((spec.name, TREND), 0.0),
                        }
                    )
            else:
                for value in spec.values:
                    if value == MISSING:
                        continue
                    out.append(
                        {
                            "feature": spec.name,
                            "kind": CATEGORICAL,
                            "value": value,
                            "lower": None,
                            "upper": None,
                            "is_missing": False,
                            "weight": self.weights.get((spec.name, value), 0.0),
                        }
                    )
                out.append(self._missing_row(spec))
        return out

    def _missing_row(self, spec: FeatureSpec) -> dict:
        return {
            "feature": spec.name,
            "kind": spec.kind,
            "value": MISSING,
            "lower": None,
            "upper": None,
            "is_missing": True,
            "weight": self.weights.get((spec.name, MISSING), 0.0),
        }


def _fit(encoder: Encoder, codes: np.ndarray, trends: np.ndarray, y: np.ndarray, lam: float, trend_lam: float):
    """Fit on rows already encoded by ``encoder`` (``codes``, ``trends``), keeping each trend
    only if its slope has the sign of the field's own relation with the outcome (its
    correlation in these rows): a slope that flips sign is an artefact of correlated fields
    offsetting each other, explains nothing to a reader, and carries the offset into values
    never seen. Such trends are set to 0 and the rest refitted, as scorecards do with
    wrong-signed coefficients. Returns the coefficients as ``_logits`` reads them: one weight
    per encoder column, one slope per trend field, the intercept."""
    k = trends.shape[1]
    direction = np.sign((trends - trends.mean(axis=0)).T @ (y - y.mean())) if k else np.zeros(0)
    kept = direction != 0
    while True:
        beta = fit_logistic(codes, y, encoder.width, lam, trends=trends[:, kept], trend_lam=trend_lam)
        slopes = np.zeros(k)
        slopes[kept] = beta[encoder.width : encoder.width + int(kept.sum())]
        wrong = kept & (slopes * direction < 0)
        if not wrong.any():
            break
        kept &= ~wrong
    return np.concatenate((beta[: encoder.width], slopes, beta[-1:]))


def _weights(encoder: Encoder, beta: np.ndarray) -> tuple[dict, float]:
    """``_fit``'s coefficients as the model's {(field, value): weight} and intercept."""
    weights = {column: float(beta[i]) for i, column in enumerate(encoder.columns)}
    for j, spec in enumerate(encoder.trend_specs):
        weights[(spec.name, TREND)] = float(beta[encoder.width + j])
    return weights, float(beta[-1])


def naive_bayes_weights(encoder: Encoder, codes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per encoder column, log P(value | won) - log P(value | lost) with add-one smoothing
    over the field's values; 0 for a column no training row has (no evidence either way)."""
    width = encoder.width
    valid = codes >= 0
    rows_cols = codes[valid]
    outcome = np.broadcast_to(y[:, None], codes.shape)[valid]
    won = np.bincount(rows_cols, weights=outcome, minlength=width)
    lost = np.bincount(rows_cols, weights=1.0 - outcome, minlength=width)
    weights = np.zeros(width)
    for block in encoder.spans:
        n_values = block.stop - block.start
        if n_values:
            p_won = (won[block] + 1.0) / (won[block].sum() + n_values)
            p_lost = (lost[block] + 1.0) / (lost[block].sum() + n_values)
            seen = (won[block] + lost[block]) > 0
            weights[block] = np.where(seen, np.log(p_won) - np.log(p_lost), 0.0)
    return weights


def _naive_bayes_part(encoder: Encoder, codes: np.ndarray, y: np.ndarray, folds: int = NAIVE_BAYES_FOLDS):
    """The naive Bayes half as coefficients laid out like ``_fit``'s: ``slope * weight`` per
    column, no trends, and an intercept. The slope and intercept come from a one-input
    logistic fit of the outcome on naive Bayes sums computed out of fold (each block of rows
    summed with weights counted on the other blocks), so in-sample counting cannot inflate
    them; a slope below 0 becomes 0."""
    n = len(y)
    sums = np.zeros(n)
    for block in np.array_split(np.arange(n), min(folds, n)) if n >= 2 else ():
        rest = np.ones(n, dtype=bool)
        rest[block] = False
        fold_weights = np.append(naive_bayes_weights(encoder, codes[rest], y[rest]), 0.0)
        sums[block] = fold_weights[codes[block]].sum(axis=1)
    calibration = fit_logistic(np.zeros((n, 0), dtype=np.int64), y, 0, 1.0, trends=sums[:, None], trend_lam=1e-6)
    slope = max(float(calibration[0]), 0.0)
    k = len(encoder.trend_specs)
    part = np.zeros(encoder.width + k + 1)
    part[: encoder.width] = slope * naive_bayes_weights(encoder, codes, y)
    part[-1] = float(calibration[-1]) if slope else _base_logit(y)
    return part, slope


def _blend(logistic: np.ndarray, naive_bayes: np.ndarray) -> np.ndarray:
    return LOGISTIC_SHARE * logistic + (1.0 - LOGISTIC_SHARE) * naive_bayes


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
    period rather than the lead (a rate of the day); its bins learned on the past cannot
    describe the future. Categorical fields are not scored: a value never seen in training
    has no weight, so they carry nothing of the past period into a new one."""
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


def train_logistic(
    rows: Sequence[dict],
    y: Sequence[int],
    fields: Iterable[str],
    *,
    bins_grid: Sequence[int] = DEFAULT_BINS_GRID,
    min_count: int = DEFAULT_MIN_COUNT,
    lambdas: Sequence[float] = DEFAULT_LAMBDAS,
    trend_lambdas: Sequence[float] = DEFAULT_TREND_LAMBDAS,
    time_ordered: bool = False,
    time_proxy_limit: float | None = TIME_PROXY_LIMIT,
    kinds: dict[str, str] | None = None,
    exact: bool = False,
) -> LogisticModel:
    """Fit the explainable model.

    The number of quantile bins and the two regularisation strengths are chosen together by
    validation on the training rows alone: with ``time_ordered``, the mean ROC AUC over the
    forward ``TIME_SLICES`` (each trained only on the rows before it, so choosing never looks
    forward); otherwise a seeded stratified 20 %. Then the model is refitted on all rows.

    With ``time_ordered`` and a ``time_proxy_limit``, numeric fields that identify the period
    (``time_proxy_scores`` at or above the limit, computed on the rows each fit is trained on)
    keep their trend but lose their bins: bins learned on the past put every value of a new
    period into the outermost bin, while a trend still orders values never seen. Categorical
    fields keep their values either way, since a value never seen in training has no weight.
    """
    fields = list(fields)
    y = np.asarray(y, dtype=float)

    def proxies(train_rows) -> dict[str, float]:
        if not time_ordered or time_proxy_limit is None or len(train_rows) < 50:
            return {}
        scores = time_proxy_scores(train_rows, fields, kinds=kinds, exact=exact)
        return {name: round(score, 3) for name, score in scores.items() if score >= time_proxy_limit}

    def specs_for(train_rows, bins, proxy_names) -> list[FeatureSpec]:
        return infer_specs(
            train_rows, fields, bins=bins, min_count=min_count, kinds=kinds, exact=exact, unbinned=proxy_names
        )

    bins, lam, trend_lam = bins_grid[0], lambdas[0], trend_lambdas[0]
    validation: dict = {}
    grid = [(b, la, tl) for b in bins_grid for la in lambdas for tl in trend_lambdas]
    if len(grid) > 1 and len(rows) >= 50 and 0 < y.sum() < len(y):
        if time_ordered:
            slices = [
                (np.arange(int(len(rows) * a)), np.arange(int(len(rows) * a), int(len(rows) * b)))
                for a, b in TIME_SLICES
            ]
        else:
            slices = [stratified_split(y, test_share=0.2, seed=7)]
        scores: dict[tuple, list[float]] = {choice: [] for choice in grid}
        for inner_train, inner_val in slices:
            y_train, y_val = y[inner_train], y[inner_val]
            if not (0 < y_train.sum() < len(y_train) and 0 < y_val.sum() < len(y_val)):
                continue
            train_rows = [rows[i] for i in inner_train]
            val_rows = [rows[i] for i in inner_val]
            proxy_names = proxies(train_rows)
            for candidate_bins in bins_grid:
                encoder = Encoder(specs_for(train_rows, candidate_bins, proxy_names))
                # Each side is encoded once for all the penalties tried on it.
                codes, trends = encoder.encode(train_rows), encoder.encode_trends(train_rows)
                val_codes, val_trends = encoder.encode(val_rows), encoder.encode_trends(val_rows)
                naive_bayes, _ = _naive_bayes_part(encoder, codes, y_train)
                for candidate in lambdas:
                    for candidate_trend in trend_lambdas:
                        beta = _blend(_fit(encoder, codes, trends, y_train, candidate, candidate_trend), naive_bayes)
                        auc = roc_auc(y_val, _logits(val_codes, val_trends, beta, encoder.width))
                        if auc is not None:
                            scores[(candidate_bins, candidate, candidate_trend)].append(auc)
        best = None
        for choice, aucs in scores.items():
            if not aucs:
                continue
            mean = float(np.mean(aucs))
            validation[f"bins={choice[0]} lambda={choice[1]:g} trend_lambda={choice[2]:g}"] = round(mean, 4)
            if best is None or mean > best + 1e-9:
                best, (bins, lam, trend_lam) = mean, choice
    proxy_names = proxies(rows)
    encoder = Encoder(specs_for(rows, bins, proxy_names))
    codes, trends = encoder.encode(rows), encoder.encode_trends(rows)
    naive_bayes, naive_bayes_scale = _naive_bayes_part(encoder, codes, y)
    weights, intercept = _weights(encoder, _blend(_fit(encoder, codes, trends, y, lam, trend_lam), naive_bayes))
    return LogisticModel(
        specs=encoder.specs,
        weights=weights,
        intercept=intercept,
        lam=lam,
        bins=bins,
        trend_lam=trend_lam,
        validation=validation,
        time_proxies=proxy_names,
        naive_bayes_scale=round(naive_bayes_scale, 4),
    )


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
