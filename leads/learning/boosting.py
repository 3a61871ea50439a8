"""Training the learned model with a well-kept library: interpret's explainable boosting
machine (a generalised additive model with a few two-field terms), exported into the weights
the SQL scorer applies (``learner.AdditiveModel``). Imported by the worker and the management
commands only, when they train: the web process never loads interpret or scikit-learn
(``tests/learning/test_web_process_imports.py``).

What stays ours: the field specs (which fields, numeric or categorical, values read exactly
as the database stores them, rare values as ``(other)``), missing as a value of its own, and
the time-proxy handling. The library does the binning and the boosting.

Settings fixed for every run (``EBM_SETTINGS``): at most 64 bins per field and 16 per field in
a pair, and 10 pair terms, so the exported SQL stays a few hundred ``CASE`` branches and the
reasons a rep reads stay few; the library's defaults otherwise. With time-ordered training
one more setting is chosen, on the training rows only: what to do with time proxies (numeric
fields that name the period, ``learner.time_proxy_scores``): bin them like any field
(``bins``), let them enter by a linear trend only (``trend``: a scikit-learn logistic
regression on their standardised values, given to the boosting as its starting score, so
values beyond the training range are still ordered), or leave them out (``drop``). Each
choice is scored by its mean ROC AUC over forward slices of the training rows, each trained
only on the rows before it (``TIME_SLICES``); the best is refitted on all training rows. No
test row is read while choosing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from interpret.glassbox import ExplainableBoostingClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from .learner import (
    CATEGORICAL,
    MISSING,
    NUMERIC,
    OTHER,
    TIME_PROXY_LIMIT,
    TREND,
    AdditiveModel,
    FeatureSpec,
    PairTerm,
    infer_specs,
    roc_auc,
    time_proxy_scores,
)

EBM_SETTINGS = {"max_bins": 64, "max_interaction_bins": 16, "interactions": 10, "random_state": 42}
# Forward validation slices of time-ordered training rows: (train up to, validate up to),
# as shares of the rows; a choice is scored by its mean ROC AUC over the slices.
TIME_SLICES = ((0.55, 0.7), (0.7, 0.85), (0.85, 1.0))
PROXY_CHOICES = ("bins", "trend", "drop")
MIN_ROWS_TO_CHOOSE = 50
# The gradient boosting baseline reads at most this many values of a categorical column
# (the library's categorical limit); rarer ones read as missing.
GB_MAX_CATEGORIES = 250


@dataclass
class Trained:
    """A fitted model: the exported weights and the library objects they came from."""

    model: AdditiveModel
    ebm: ExplainableBoostingClassifier | None
    trend: LogisticRegression | None

    def library_proba(self, rows: Sequence[dict]) -> np.ndarray:
        """The library's own probability for ``rows`` (what the export must reproduce)."""
        init = _trend_logit(self.trend, self._trend_specs, rows)
        if self.ebm is None:
            return 1.0 / (1.0 + np.exp(-init))
        return self.ebm.predict_proba(_frame(self._ebm_specs, rows), init_score=init)[:, 1]

    @property
    def _ebm_specs(self) -> list[FeatureSpec]:
        return [s for s in self.model.specs if _in_ebm(s)]

    @property
    def _trend_specs(self) -> list[FeatureSpec]:
        return [s for s in self.model.specs if s.has_trend]


def _in_ebm(spec: FeatureSpec) -> bool:
    return spec.kind == CATEGORICAL or spec.binned


def _frame(specs: Sequence[FeatureSpec], rows: Sequence[dict]) -> pd.DataFrame:
    """The rows as the library reads them: numbers as floats (NaN when missing), categorical
    values as our tokens (None when missing, ``(other)`` when rare or unseen)."""
    columns = {}
    for spec in specs:
        if spec.kind == NUMERIC:
            numbers = (spec.number(row.get(spec.name)) for row in rows)
            columns[spec.name] = np.array([np.nan if n is None else n for n in numbers], dtype=float)
        else:
            tokens = (spec.token(row.get(spec.name)) for row in rows)
            columns[spec.name] = np.array([None if t == MISSING else t for t in tokens], dtype=object)
    return pd.DataFrame(columns, index=range(len(rows)))


def _trend_matrix(specs: Sequence[FeatureSpec], rows: Sequence[dict]) -> np.ndarray:
    out = np.zeros((len(rows), len(specs)))
    for j, spec in enumerate(specs):
        out[:, j] = [spec.trend_value(row.get(spec.name)) for row in rows]
    return out


def _trend_logit(trend: LogisticRegression | None, specs, rows) -> np.ndarray:
    if trend is None:
        return np.zeros(len(rows))
    return trend.decision_function(_trend_matrix(specs, rows))


def _index_map(spec: FeatureSpec, bins, size: int, *, pair: bool) -> list[tuple[str, int]]:
    """(our token, the library's bin index) for every token of ``spec``: the library puts
    missing at 0, numeric bins at 1.., categories at their own index and unseen ones last."""
    if spec.kind == NUMERIC:
        return [(token, i + 1) for i, token in enumerate(spec.tokens(pair=pair)[:-1])] + [(MISSING, 0)]
    unseen = size - 1
    return [(v, bins.get(v, unseen)) for v in spec.values] + [(OTHER, bins.get(OTHER, unseen)), (MISSING, 0)]


def _export(
    specs: list[FeatureSpec], ebm: ExplainableBoostingClassifier | None, trend: LogisticRegression | None
) -> AdditiveModel:
    weights: dict[tuple[str, str], float] = {}
    pairs: list[PairTerm] = []
    intercept = 0.0
    by_name = {spec.name: spec for spec in specs}
    if ebm is not None:
        names = list(ebm.feature_names_in_)
        intercept += float(np.ravel(ebm.intercept_)[0])
        for i, name in enumerate(names):
            spec = by_name[name]
            if spec.kind == NUMERIC:
                levels = ebm.bins_[i]
                spec.edges = [float(c) for c in levels[0]]
                spec.pair_edges = [float(c) for c in levels[min(1, len(levels) - 1)]]
        for features, scores in zip(ebm.term_features_, ebm.term_scores_, strict=True):
            if len(features) == 1:
                (i,) = features
                spec = by_name[names[i]]
                for token, index in _index_map(spec, ebm.bins_[i][0], scores.shape[0], pair=False):
                    weights[(spec.name, token)] = float(scores[index])
            elif len(features) == 2:
                i, j = features
                first, second = by_name[names[i]], by_name[names[j]]
                first_bins = ebm.bins_[i][min(1, len(ebm.bins_[i]) - 1)]
                second_bins = ebm.bins_[j][min(1, len(ebm.bins_[j]) - 1)]
                table = {}
                for a, ia in _index_map(first, first_bins, scores.shape[0], pair=True):
                    for b, ib in _index_map(second, second_bins, scores.shape[1], pair=True):
                        table[(a, b)] = float(scores[ia, ib])
                pairs.append(PairTerm(first=first.name, second=second.name, weights=table))
            else:  # pragma: no cover - interactions are pairs by construction
                raise ValueError(f"Terms of {len(features)} fields cannot be exported.")
    if trend is not None:
        intercept += float(trend.intercept_[0])
        for spec, slope in zip([s for s in specs if s.has_trend], trend.coef_[0], strict=True):
            weights[(spec.name, TREND)] = float(slope)
    return AdditiveModel(specs=specs, weights=weights, intercept=intercept, pairs=pairs)


def _fit(
    rows: Sequence[dict],
    y: np.ndarray,
    fields: list[str],
    *,
    choice: str,
    proxies: Iterable[str],
    kinds: dict[str, str] | None,
    exact: bool,
    group: Callable[[str], str] | None,
    n_jobs: int | None,
) -> Trained:
    proxies = set(proxies)
    used = [f for f in fields if not (choice == "drop" and f in proxies)]
    trend_only = proxies if choice == "trend" else ()
    specs = infer_specs(rows, used, kinds=kinds, exact=exact, trend_only=trend_only)
    trend_specs = [s for s in specs if s.has_trend]
    ebm_specs = [s for s in specs if _in_ebm(s)]
    trend = None
    init = None
    if trend_specs:
        trend = LogisticRegression(C=1.0, max_iter=1000).fit(_trend_matrix(trend_specs, rows), y)
        init = trend.decision_function(_trend_matrix(trend_specs, rows))
    ebm = None
    if ebm_specs:
        exclude = None
        if group is not None:
            names = [s.name for s in ebm_specs]
            exclude = [(a, b) for a in names for b in names if a < b and group(a) != group(b)] or None
        settings = dict(EBM_SETTINGS)
        if n_jobs is not None:
            settings["n_jobs"] = n_jobs
        ebm = ExplainableBoostingClassifier(
            feature_types=["continuous" if s.kind == NUMERIC else "nominal" for s in ebm_specs],
            exclude=exclude,
            **settings,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "missing values detected": missing is a value here
            ebm.fit(_frame(ebm_specs, rows), y, init_score=init)
    return Trained(model=_export(specs, ebm, trend), ebm=ebm, trend=trend)


def train_ebm(
    rows: Sequence[dict],
    y: Sequence[int],
    fields: Iterable[str],
    *,
    time_ordered: bool = False,
    time_proxy_limit: float | None = TIME_PROXY_LIMIT,
    kinds: dict[str, str] | None = None,
    exact: bool = False,
    group: Callable[[str], str] | None = None,
    n_jobs: int | None = None,
) -> Trained:
    """Fit the explainable boosting machine on ``rows`` (the training rows, and only them).

    With ``time_ordered`` the rows are oldest first, and the time-proxy choice is made on
    forward slices of them (module docstring). ``group`` names a side for each field: no pair
    term mixes fields of different sides (the scorer computes lead fields and engagement counts
    in different parts of its statement)."""
    fields = list(fields)
    y = np.asarray(y, dtype=float)
    common = {"kinds": kinds, "exact": exact, "group": group, "n_jobs": n_jobs}

    def proxies_of(train_rows) -> dict[str, float]:
        if not time_ordered or time_proxy_limit is None or len(train_rows) < MIN_ROWS_TO_CHOOSE:
            return {}
        scores = time_proxy_scores(train_rows, fields, kinds=kinds, exact=exact)
        return {name: round(score, 3) for name, score in scores.items() if score >= time_proxy_limit}

    proxies = proxies_of(rows)
    choice = "bins"
    validation: dict[str, float] = {}
    if proxies and len(rows) >= MIN_ROWS_TO_CHOOSE:
        n = len(rows)
        scores: dict[str, list[float]] = {c: [] for c in PROXY_CHOICES}
        for start, stop in TIME_SLICES:
            inner_train, inner_val = np.arange(int(n * start)), np.arange(int(n * start), int(n * stop))
            y_train, y_val = y[inner_train], y[inner_val]
            if not (0 < y_train.sum() < len(y_train) and 0 < y_val.sum() < len(y_val)):
                continue
            train_rows = [rows[i] for i in inner_train]
            val_rows = [rows[i] for i in inner_val]
            inner_proxies = proxies_of(train_rows)
            for candidate in PROXY_CHOICES if inner_proxies else ("bins",):
                fitted = _fit(train_rows, y_train, fields, choice=candidate, proxies=inner_proxies, **common)
                auc = roc_auc(y_val, fitted.model.predict(val_rows))
                if auc is not None:
                    scores[candidate].append(auc)
                    if not inner_proxies:  # nothing to choose in this slice: every choice is "bins"
                        for other in PROXY_CHOICES[1:]:
                            scores[other].append(auc)
        best = None
        for candidate in PROXY_CHOICES:
            if scores[candidate]:
                mean = float(np.mean(scores[candidate]))
                validation[candidate] = round(mean, 4)
                if best is None or mean > best + 1e-9:
                    best, choice = mean, candidate
    trained = _fit(rows, y, fields, choice=choice, proxies=proxies, **common)
    trained.model.info = {
        "trainer": "interpret ExplainableBoostingClassifier",
        "settings": dict(EBM_SETTINGS),
        "time_proxies": proxies,
        "time_proxy_choice": choice if proxies else None,
        "validation": validation,
        "pairs": [pair.name for pair in trained.model.pairs],
    }
    return trained


def gradient_boosting_baseline(
    rows: Sequence[dict], y: Sequence[int], fields: Iterable[str], *, kinds: dict[str, str] | None = None
) -> Callable[[Sequence[dict]], np.ndarray]:
    """An off-the-shelf scikit-learn histogram gradient boosting fitted on ``rows`` (library
    defaults, seeded; numbers as numbers, text columns as its native categories); returns the
    function that scores other rows."""
    specs = infer_specs(rows, list(fields), kinds=kinds, min_count=1)
    codes: dict[str, dict[str, int]] = {}
    for spec in specs:
        if spec.kind == CATEGORICAL:
            counts: dict[str, int] = {}
            for row in rows:
                text = spec.text(row.get(spec.name))
                if text is not None and text != MISSING:
                    counts[text] = counts.get(text, 0) + 1
            top = sorted(counts, key=lambda v: (-counts[v], v))[:GB_MAX_CATEGORIES]
            codes[spec.name] = {v: i for i, v in enumerate(top)}

    def matrix(some_rows) -> np.ndarray:
        x = np.full((len(some_rows), len(specs)), np.nan)
        for j, spec in enumerate(specs):
            for i, row in enumerate(some_rows):
                value = row.get(spec.name)
                if spec.kind == NUMERIC:
                    number = spec.number(value)
                    x[i, j] = np.nan if number is None else number
                else:
                    code = codes[spec.name].get(spec.text(value))
                    x[i, j] = np.nan if code is None else code
        return x

    model = HistGradientBoostingClassifier(
        categorical_features=[spec.kind == CATEGORICAL for spec in specs], random_state=42
    ).fit(matrix(rows), np.asarray(y, dtype=int))
    return lambda some_rows: model.predict_proba(matrix(some_rows))[:, 1]
