"""The learner: explainable per-value weights, trained from rows of (features, outcome).

Pure Python + numpy and nothing about Django, so the evaluation command and the in-app
training share it.

Encoding. Each field is one-hot encoded as *values*: a categorical field by its text value,
a numeric field by the training-set quantile bin it falls in, and a missing value as the
value ``(missing)`` of its own. A lead's learned logit is therefore
``intercept + sum(weight of each of its field values)`` and its probability the sigmoid of
that: the same sum the SQL application computes, and the reasons a rep reads
("industry = software: +0.42").

Model. L2-regularised logistic regression fitted by Newton's method (the problem is small:
one weight per field value). The regularisation strength is picked from a fixed grid by
internal validation on the *training* rows only (time-ordered when the training rows are),
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
DEFAULT_LAMBDAS = (1.0, 3.0, 10.0, 30.0)
DEFAULT_BINS = 10
DEFAULT_BINS_GRID = (5, 10, 20, 40)
# With time-ordered training, a field that tells newer rows from older ones this well is
# left out as a proxy for the period (see time_proxy_scores).
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
        return {"name": self.name, "kind": self.kind, "edges": self.edges, "values": self.values, "exact": self.exact}

    @classmethod
    def from_dict(cls, data: dict) -> FeatureSpec:
        return cls(
            name=data["name"],
            kind=data["kind"],
            edges=list(data.get("edges", [])),
            values=list(data.get("values", [])),
            exact=bool(data.get("exact", False)),
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
) -> list[FeatureSpec]:
    """Decide per field whether it is numeric or categorical and fix its bins / values, from
    the training rows only. ``kinds`` fixes the kind of some fields; ``exact`` makes specs
    that read values exactly as a database stores them (see ``FeatureSpec.exact``)."""
    kinds = kinds or {}
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
            specs.append(FeatureSpec(name=name, kind=NUMERIC, edges=quantile_edges(numbers, bins), exact=exact))
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
        for spec in self.specs:
            if spec.kind == NUMERIC:
                tokens = [spec.bin_label(i) for i in range(len(spec.edges) + 1)] + [MISSING]
            else:
                tokens = list(spec.values) + ([MISSING] if MISSING not in spec.values else [])
            for token in tokens:
                self.index[(spec.name, token)] = len(self.columns)
                self.columns.append((spec.name, token))

    @property
    def width(self) -> int:
        return len(self.columns)

    def encode(self, rows: Sequence[dict]) -> np.ndarray:
        """An (n_rows, n_fields) int array of column indexes; -1 where the value has no column."""
        out = np.full((len(rows), len(self.specs)), -1, dtype=np.int64)
        for j, spec in enumerate(self.specs):
            for i, row in enumerate(rows):
                token = spec.token(row.get(spec.name))
                if token is not None:
                    out[i, j] = self.index.get((spec.name, token), -1)
        return out


def _dense(codes: np.ndarray, width: int) -> np.ndarray:
    n = codes.shape[0]
    x = np.zeros((n, width + 1))
    rows = np.repeat(np.arange(n), codes.shape[1])
    cols = codes.ravel()
    keep = cols >= 0
    x[rows[keep], cols[keep]] = 1.0
    x[:, width] = 1.0  # intercept
    return x


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


HESSIAN_CHUNK_ROWS = 20_000


def _logits(codes: np.ndarray, beta: np.ndarray, width: int) -> np.ndarray:
    # One-hot rows make x @ beta a sum of looked-up weights; code -1 (no column) reads the
    # appended 0.
    return beta[width] + np.append(beta[:width], 0.0)[codes].sum(axis=1)


def fit_logistic(codes: np.ndarray, y: np.ndarray, width: int, lam: float, *, iterations: int = 50) -> np.ndarray:
    """Newton's method on the L2-penalised log-likelihood; the intercept (last) is unpenalised.

    Works on the column indexes, never on a full dense design: logits and gradients are
    lookups and ``bincount``s, and the Hessian is summed over dense blocks of
    ``HESSIAN_CHUNK_ROWS`` rows, so memory stays bounded for a million outcomes."""
    beta = np.zeros(width + 1)
    prior = y.mean() if len(y) else 0.5
    prior = min(max(prior, 1e-6), 1 - 1e-6)
    beta[width] = math.log(prior / (1 - prior))
    penalty = np.full(width + 1, lam)
    penalty[width] = 1e-8
    flat = codes.ravel()
    valid = flat >= 0
    flat_valid = flat[valid]

    def objective(b):
        z = _logits(codes, b, width)
        # log(1 + e^z) - y z, computed without overflow
        return float(np.sum(np.logaddexp(0, z) - y * z) + 0.5 * np.sum(penalty * b * b))

    current = objective(beta)
    for _ in range(iterations):
        p = sigmoid(_logits(codes, beta, width))
        residual = p - y
        gradient = np.empty(width + 1)
        per_cell = np.repeat(residual, codes.shape[1])[valid]
        gradient[:width] = np.bincount(flat_valid, weights=per_cell, minlength=width)
        gradient[width] = residual.sum()
        gradient += penalty * beta
        w = p * (1 - p)
        hessian = np.diag(penalty)
        for start in range(0, len(y), HESSIAN_CHUNK_ROWS):
            x = _dense(codes[start : start + HESSIAN_CHUNK_ROWS], width)
            hessian += (x * w[start : start + HESSIAN_CHUNK_ROWS, None]).T @ x
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
    validation: dict = field(default_factory=dict)
    dropped_time_proxies: dict = field(default_factory=dict)

    def logit(self, row: dict) -> float:
        return self.intercept + sum(weight for _, _, weight in self.contributions(row))

    def contributions(self, row: dict) -> list[tuple[str, str, float]]:
        """(field, value, weight) of each field value of this row that has a weight."""
        out = []
        for spec in self.specs:
            token = spec.token(row.get(spec.name))
            weight = self.weights.get((spec.name, token)) if token is not None else None
            if weight is not None:
                out.append((spec.name, token, weight))
        return out

    def predict(self, rows: Sequence[dict]) -> np.ndarray:
        return sigmoid(np.array([self.logit(row) for row in rows], dtype=float))

    def weight_rows(self) -> list[dict]:
        """The weights table: one row per (field, value) with its SQL-matchable definition."""
        out = []
        for spec in self.specs:
            if spec.kind == NUMERIC:
                for i in range(len(spec.edges) + 1):
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


def _fit(encoder: Encoder, codes: np.ndarray, y: np.ndarray, lam: float) -> tuple[dict, float]:
    beta = fit_logistic(codes, y, encoder.width, lam)
    weights = {column: float(beta[i]) for i, column in enumerate(encoder.columns)}
    return weights, float(beta[encoder.width])


def time_proxy_scores(
    rows: Sequence[dict],
    fields: Iterable[str],
    *,
    bins: int = DEFAULT_BINS,
    kinds: dict[str, str] | None = None,
    exact: bool = False,
) -> dict[str, float]:
    """How well each field alone tells the newest 20 % of (time-ordered) rows from the older
    80 %: the ROC AUC of its per-value share of new rows. A field near 1.0 names the period
    rather than the lead (a rate of the day, a campaign wave id); its bins learned on the past
    cannot describe the future."""
    n = len(rows)
    newer = np.zeros(n)
    newer[int(round(n * 0.8)) :] = 1
    scores = {}
    for spec in infer_specs(rows, fields, bins=bins, min_count=DEFAULT_MIN_COUNT, kinds=kinds, exact=exact):
        # Rare values share one group, so a field of many one-off values does not look like
        # a perfect time proxy.
        known = set(spec.values) | {MISSING}
        tokens = [spec.token(row.get(spec.name)) for row in rows]
        if spec.kind == CATEGORICAL:
            tokens = [t if t in known else None for t in tokens]
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
    time_ordered: bool = False,
    time_proxy_limit: float | None = TIME_PROXY_LIMIT,
    kinds: dict[str, str] | None = None,
    exact: bool = False,
) -> LogisticModel:
    """Fit the explainable model.

    The number of quantile bins and the regularisation strength are chosen together by
    validation on the training rows alone: the newest 20 % when ``time_ordered`` (choosing
    never looks forward), otherwise a seeded stratified 20 %; then the model is refitted on
    all rows. With ``time_ordered`` and a ``time_proxy_limit``, fields that identify the
    period (``time_proxy_scores`` at or above the limit) are left out and reported."""
    fields = list(fields)
    y = np.asarray(y, dtype=float)
    dropped: dict[str, float] = {}
    if time_ordered and time_proxy_limit is not None and len(rows) >= 50:
        scores = time_proxy_scores(rows, fields, kinds=kinds, exact=exact)
        dropped = {name: round(score, 3) for name, score in scores.items() if score >= time_proxy_limit}
        fields = [name for name in fields if name not in dropped]
    bins, lam = bins_grid[0], lambdas[0]
    validation: dict = {}
    if (len(lambdas) > 1 or len(bins_grid) > 1) and len(rows) >= 50 and 0 < y.sum() < len(y):
        if time_ordered:
            inner_train, inner_val = time_split(len(rows), test_share=0.2)
        else:
            inner_train, inner_val = stratified_split(y, test_share=0.2, seed=7)
        train_rows = [rows[i] for i in inner_train]
        val_rows = [rows[i] for i in inner_val]
        best = None
        for candidate_bins in bins_grid:
            specs = infer_specs(train_rows, fields, bins=candidate_bins, min_count=min_count, kinds=kinds, exact=exact)
            encoder = Encoder(specs)
            train_codes = encoder.encode(train_rows)
            for candidate in lambdas:
                weights, intercept = _fit(encoder, train_codes, y[inner_train], candidate)
                model = LogisticModel(specs=specs, weights=weights, intercept=intercept, lam=candidate)
                auc = roc_auc(y[inner_val], model.predict(val_rows))
                validation[f"bins={candidate_bins} lambda={candidate:g}"] = None if auc is None else round(auc, 4)
                if auc is not None and (best is None or auc > best + 1e-9):
                    best, bins, lam = auc, candidate_bins, candidate
    specs = infer_specs(rows, fields, bins=bins, min_count=min_count, kinds=kinds, exact=exact)
    encoder = Encoder(specs)
    weights, intercept = _fit(encoder, encoder.encode(rows), y, lam)
    return LogisticModel(
        specs=specs,
        weights=weights,
        intercept=intercept,
        lam=lam,
        bins=bins,
        validation=validation,
        dropped_time_proxies=dropped,
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
