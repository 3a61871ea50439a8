"""The learner and its training: no database."""

import numpy as np
import pytest

from leads.learning.boosting import PROXY_CHOICES, gradient_boosting_baseline, train_ebm
from leads.learning.learner import (
    MISSING,
    OTHER,
    NaiveBayes,
    SealedRows,
    SealedRowsError,
    infer_specs,
    quantile_edges,
    roc_auc,
    stratified_split,
    time_split,
)


def synthetic(n, *, seed, signal):
    rng = np.random.default_rng(seed)
    rows, y = [], []
    for _ in range(n):
        industry = rng.choice(["software", "retail", "finance", "energy"])
        size = float(rng.lognormal(4, 1.5))
        colour = rng.choice(["red", "green", "blue"])  # never related to the outcome
        logit = -1.0
        if signal:
            logit += {"software": 1.5, "retail": -1.5, "finance": 0.3, "energy": 0.0}[industry] + 0.8 * (size > 200)
        rows.append({"industry": industry, "size": size if rng.random() > 0.1 else "", "colour": colour})
        y.append(int(rng.random() < 1 / (1 + np.exp(-logit))))
    return rows, np.array(y)


FIELDS = ["industry", "size", "colour"]


@pytest.fixture(scope="module")
def signal_fit():
    rows, y = synthetic(2000, seed=1, signal=True)
    train, test = stratified_split(y, seed=42)
    trained = train_ebm([rows[i] for i in train], y[train], FIELDS)
    return trained, [rows[i] for i in test], y[test]


def test_a_known_signal_is_recovered_with_weights_pointing_the_right_way(signal_fit):
    trained, test_rows, y_test = signal_fit
    model = trained.model
    assert roc_auc(y_test, model.predict(test_rows)) > 0.72
    assert model.weights[("industry", "software")] > 0.5 > 0 > -0.5 > model.weights[("industry", "retail")]
    assert max(abs(model.weights[("colour", c)]) for c in ("red", "green", "blue")) < 0.2


def test_the_exported_weights_give_the_librarys_own_prediction(signal_fit):
    trained, test_rows, _ = signal_fit
    odd = [{"industry": "never-seen", "size": "n/a", "colour": ""}, {"industry": None, "size": 1e12}, {}]
    rows = test_rows + odd
    assert trained.model.pairs, "the library's pair terms are exported"
    assert np.max(np.abs(trained.model.predict(rows) - trained.library_proba(rows))) < 1e-9


def test_a_lead_logit_is_the_intercept_plus_its_value_and_pair_weights(signal_fit):
    model = signal_fit[0].model
    row = {"industry": "software", "size": 250.0, "colour": "red"}
    contributions = model.contributions(row)
    assert model.logit(row) == pytest.approx(model.intercept + sum(w for _, _, w in contributions))
    features = {f for f, _, _ in contributions}
    assert {"industry", "size", "colour"} <= features
    assert {pair.name for pair in model.pairs} <= features


def test_missing_rare_and_unseen_values_are_values_of_their_own(signal_fit):
    model = signal_fit[0].model
    assert ("size", MISSING) in model.weights and ("industry", OTHER) in model.weights
    size = next(s for s in model.specs if s.name == "size")
    industry = next(s for s in model.specs if s.name == "industry")
    assert size.token("") == size.token("not a number") == MISSING
    assert industry.token("never-seen") == OTHER and industry.token(" ") == MISSING
    rare = infer_specs([{"c": "a"}] * 10 + [{"c": "b"}] * 2, ["c"])[0]
    assert rare.values == ["a"] and rare.token("b") == OTHER


def test_pure_noise_is_not_claimed_as_signal():
    rows, y = synthetic(1500, seed=2, signal=False)
    train, test = stratified_split(y, seed=42)
    model = train_ebm([rows[i] for i in train], y[train], FIELDS).model
    assert 0.4 < roc_auc(y[test], model.predict([rows[i] for i in test])) < 0.6
    assert max(abs(w) for w in model.weights.values()) < 0.5


def drifting(n, *, seed, start, stop):
    """Rows in time order: a rate of the day drifting from ``start`` to ``stop`` that lowers
    the odds as it rises, plus a lead field with a fixed effect."""
    rng = np.random.default_rng(seed)
    rows, y = [], []
    for rate in np.linspace(start, stop, n):
        plan = rng.choice(["pro", "free"])
        logit = -1.0 - 0.8 * rate + (1.0 if plan == "pro" else -1.0)
        rows.append({"rate": float(rate + rng.normal(0, 0.05)), "plan": plan})
        y.append(int(rng.random() < 1 / (1 + np.exp(-logit))))
    return rows, np.array(y)


def test_time_ordered_training_chooses_what_to_do_with_a_time_proxy_on_forward_slices_of_its_rows():
    rows, y = drifting(1500, seed=4, start=0.0, stop=3.0)
    trained = train_ebm(rows, y, ["rate", "plan"], time_ordered=True)
    info = trained.model.info
    assert set(info["time_proxies"]) == {"rate"}
    assert set(info["validation"]) == set(PROXY_CHOICES)
    assert info["time_proxy_choice"] == max(info["validation"], key=info["validation"].get)
    rate = next((s for s in trained.model.specs if s.name == "rate"), None)
    if info["time_proxy_choice"] == "trend":
        assert not rate.binned and rate.has_trend and trained.model.weights[("rate", "(trend)")] < 0
    elif info["time_proxy_choice"] == "drop":
        assert rate is None
    assert np.max(np.abs(trained.model.predict(rows[:200]) - trained.library_proba(rows[:200]))) < 1e-9


def test_a_trend_is_clamped_and_survives_being_stored():
    rows, _ = drifting(500, seed=6, start=0.0, stop=1.0)
    spec = infer_specs(rows, ["rate"], trend_only=["rate"])[0]
    again = type(spec).from_dict(spec.to_dict())
    assert again == spec and again.trend_value(0.5) == spec.trend_value(0.5) != 0.0
    assert spec.trend_value(1e9) == spec.trend_value(spec.high) and spec.trend_value("n/a") == 0.0


def test_the_gradient_boosting_baseline_ranks_a_clear_signal():
    rows, y = synthetic(1500, seed=3, signal=True)
    train, test = stratified_split(y, seed=42)
    predict = gradient_boosting_baseline([rows[i] for i in train], y[train], FIELDS)
    assert roc_auc(y[test], predict([rows[i] for i in test])) > 0.7


def test_sealed_rows_cannot_be_read_before_the_final_score_nor_scored_twice():
    sealed = SealedRows([{"a": 1}, {"a": 2}], [0, 1])
    with pytest.raises(SealedRowsError):
        list(sealed)
    with pytest.raises(SealedRowsError):
        sealed[0]
    assert not sealed.is_open and len(sealed) == 2
    scored = sealed.score({"m": lambda rows: [row["a"] for row in rows]})
    assert scored["m"]["auc"] == 1.0 and sealed.is_open
    with pytest.raises(SealedRowsError):
        sealed.score({"m": lambda rows: [0] * len(rows)})


def test_quantile_edges_give_a_mass_point_its_own_bin():
    numbers = [999.0] * 90 + list(range(10))
    edges = quantile_edges(numbers, 5)
    assert 999.0 in edges and any(edge < 999 for edge in edges)


def test_roc_auc_is_rank_based_and_handles_ties():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert roc_auc([0, 1, 0, 1], [0.1, 0.1, 0.2, 0.9]) == pytest.approx(0.625)  # pairs: 0.5 + 0 + 1 + 1 of 4
    assert roc_auc([1, 1], [0.1, 0.2]) is None


def test_splits_are_stratified_and_seeded_or_time_ordered():
    y = np.array([1] * 100 + [0] * 900)
    train, test = stratified_split(y, seed=42)
    assert len(test) == 300 and y[test].sum() == 30
    assert list(stratified_split(y, seed=42)[1]) == list(test)
    train, test = time_split(10)
    assert list(train) == list(range(7)) and list(test) == [7, 8, 9]


def test_naive_bayes_baseline_skips_unset_values_and_ranks_a_clear_signal():
    rows = [{"a": "x"}] * 50 + [{"a": "y"}] * 50 + [{"a": ""}] * 10
    y = [1] * 40 + [0] * 10 + [1] * 10 + [0] * 40 + [1] * 5 + [0] * 5
    nb = NaiveBayes(["a"]).fit(rows, y)
    assert "" not in nb.counts["a"]
    p = nb.predict([{"a": "x"}, {"a": "y"}, {"a": ""}])
    assert p[0] > p[2] > p[1]
    assert p[2] == pytest.approx(55 / 110)
