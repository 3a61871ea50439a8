"""The learner itself: no database."""

import numpy as np
import pytest

from leads.learning.learner import (
    MISSING,
    Encoder,
    NaiveBayes,
    _fit,
    _naive_bayes_part,
    infer_specs,
    naive_bayes_weights,
    quantile_edges,
    roc_auc,
    stratified_split,
    time_split,
    train_logistic,
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
            logit += {"software": 1.5, "retail": -1.5, "finance": 0.3, "energy": 0.0}[industry] + 0.5 * (size > 200)
        rows.append({"industry": industry, "size": size if rng.random() > 0.1 else "", "colour": colour})
        y.append(int(rng.random() < 1 / (1 + np.exp(-logit))))
    return rows, np.array(y)


def holdout_auc(rows, y, fields):
    train, test = stratified_split(y, seed=42)
    model = train_logistic([rows[i] for i in train], y[train], fields)
    return model, roc_auc(y[test], model.predict([rows[i] for i in test]))


def test_a_known_signal_is_recovered_with_weights_pointing_the_right_way():
    rows, y = synthetic(1500, seed=1, signal=True)
    model, auc = holdout_auc(rows, y, ["industry", "size", "colour"])
    assert auc > 0.72
    assert model.weights[("industry", "software")] > 0.8 > 0 > -0.8 > model.weights[("industry", "retail")]
    assert max(abs(model.weights[("colour", c)]) for c in ("red", "green", "blue")) < 0.2


def test_pure_noise_is_not_claimed_as_signal():
    rows, y = synthetic(1500, seed=2, signal=False)
    model, auc = holdout_auc(rows, y, ["industry", "size", "colour"])
    assert 0.4 < auc < 0.6
    assert max(abs(w) for w in model.weights.values()) < 0.3


def test_a_lead_logit_is_the_intercept_plus_its_value_weights():
    rows, y = synthetic(500, seed=3, signal=True)
    model = train_logistic(rows, y, ["industry", "size"])
    row = rows[0]
    expected = model.intercept + sum(w for _, _, w in model.contributions(row))
    assert model.logit(row) == pytest.approx(expected)
    assert {f for f, _, _ in model.contributions(row)} == {"industry", "size"}


def test_missing_values_are_a_value_of_their_own():
    rows, y = synthetic(800, seed=4, signal=True)
    model = train_logistic(rows, y, ["size"])
    assert ("size", MISSING) in model.weights
    assert model.contributions({"size": ""})[0][1] == MISSING


def test_numeric_bins_come_from_training_quantiles_and_mass_points_get_their_own_bin():
    numbers = [999.0] * 90 + list(range(10))
    edges = quantile_edges(numbers, 5)
    assert 999.0 in edges
    assert any(edge < 999 for edge in edges)
    spec = infer_specs([{"x": v} for v in numbers], ["x"], bins=5)[0]
    assert spec.kind == "numeric" and spec.token(999) == ">= 999"


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


def test_a_numeric_trend_orders_values_beyond_the_training_range():
    rows, y = drifting(3000, seed=3, start=0.0, stop=3.0)
    model = train_logistic(rows, y, ["rate", "plan"], bins_grid=(10,), lambdas=(3.0,), trend_lambdas=(1.0,))
    # Every value above the training range falls in the top bin; the trend still orders them.
    assert model.logit({"rate": 5.0, "plan": "pro"}) < model.logit({"rate": 4.0, "plan": "pro"})
    # Far values are clamped to the training range widened by that range on either side.
    assert model.logit({"rate": 1e9, "plan": "pro"}) == model.logit({"rate": 7.0, "plan": "pro"})
    # Missing or not a number: no trend contribution.
    assert not any("(trend)" in value for _, value, _ in model.contributions({"rate": "n/a", "plan": "pro"}))


def test_time_ordered_training_keeps_only_the_trend_of_a_numeric_field_that_names_the_period():
    rows, y = drifting(3000, seed=4, start=0.0, stop=3.0)
    model = train_logistic(rows, y, ["rate", "plan"], time_ordered=True, bins_grid=(10,), lambdas=(3.0,))
    assert set(model.time_proxies) == {"rate"}
    rate = next(spec for spec in model.specs if spec.name == "rate")
    assert not rate.binned and rate.edges == [] and rate.has_trend
    assert [row["kind"] for row in model.weight_rows() if row["feature"] == "rate"] == ["numeric", "trend"]
    assert model.weights[("rate", "(trend)")] < 0
    # Held out on newer, higher rates than any seen in training, the ranking still holds.
    newer, y_newer = drifting(2000, seed=5, start=3.0, stop=4.5)
    assert roc_auc(y_newer, model.predict(newer)) > 0.7


def test_a_spec_with_a_trend_survives_being_stored():
    rows, y = drifting(500, seed=6, start=0.0, stop=1.0)
    spec = infer_specs(rows, ["rate"], unbinned=["rate"])[0]
    again = type(spec).from_dict(spec.to_dict())
    assert again == spec and again.trend_value(0.5) == spec.trend_value(0.5) != 0.0


def test_a_trend_never_points_against_its_fields_own_relation_with_the_outcome():
    # x2 nearly repeats x1; jointly the best fit offsets a large x1 slope with a negative x2
    # slope, although more x2 goes with more success on its own.
    rng = np.random.default_rng(8)
    rows, y = [], []
    for _ in range(3000):
        x1 = float(rng.normal())
        x2 = x1 + float(rng.normal(0, 0.3))
        rows.append({"x1": x1, "x2": x2})
        y.append(int(rng.random() < 1 / (1 + np.exp(-(2.0 * x1 - 1.2 * x2)))))
    y = np.array(y)
    assert np.corrcoef([r["x2"] for r in rows], y)[0, 1] > 0
    model = train_logistic(rows, y, ["x1", "x2"], bins_grid=(2,), lambdas=(1000.0,), trend_lambdas=(0.01,))
    assert model.weights[("x1", "(trend)")] > 0
    assert model.weights[("x2", "(trend)")] == 0.0


def test_naive_bayes_weights_are_add_one_log_ratios_per_field_and_zero_for_values_no_row_has():
    rows = [{"plan": "pro"}] * 6 + [{"plan": "free"}] * 4
    y = np.array([1, 1, 1, 1, 0, 0, 1, 0, 0, 0], dtype=float)
    encoder = Encoder(infer_specs(rows, ["plan"], min_count=1))
    weights = naive_bayes_weights(encoder, encoder.encode(rows), y)
    # Columns: free, pro, (missing); won 5 (pro 4, free 1), lost 5 (pro 2, free 3); 3 values.
    by_value = dict(zip((value for _, value in encoder.columns), weights, strict=True))
    assert by_value["pro"] == pytest.approx(np.log((4 + 1) / (5 + 3)) - np.log((2 + 1) / (5 + 3)))
    assert by_value["free"] == pytest.approx(np.log((1 + 1) / 8) - np.log((3 + 1) / 8))
    assert by_value[MISSING] == 0.0


def test_the_naive_bayes_half_is_scaled_out_of_fold_so_noise_adds_nothing():
    # Many rare values: counted in-sample they "explain" the outcome; out of fold they do not.
    rng = np.random.default_rng(12)
    rows = [{"city": f"c{rng.integers(300)}"} for _ in range(3000)]
    y = (rng.random(3000) < 0.3).astype(float)
    encoder = Encoder(infer_specs(rows, ["city"], min_count=1))
    codes = encoder.encode(rows)
    in_sample = np.append(naive_bayes_weights(encoder, codes, y), 0.0)[codes].sum(axis=1)
    assert roc_auc(y, in_sample) > 0.6  # what an in-sample scale would be fitted on
    _, scale = _naive_bayes_part(encoder, codes, y)
    assert scale < 0.15
    signal_rows, signal_y = synthetic(1500, seed=1, signal=True)
    signal_encoder = Encoder(infer_specs(signal_rows, ["industry", "colour"]))
    _, signal_scale = _naive_bayes_part(signal_encoder, signal_encoder.encode(signal_rows), signal_y.astype(float))
    assert signal_scale > 0.6


def test_each_learned_weight_is_the_equal_blend_of_the_regression_and_the_scaled_naive_bayes():
    rows, y = synthetic(1200, seed=9, signal=True)
    fields = ["industry", "size", "colour"]
    model = train_logistic(rows, y, fields, bins_grid=(10,), lambdas=(3.0,), trend_lambdas=(10.0,))
    encoder = Encoder(model.specs)
    codes, trends = encoder.encode(rows), encoder.encode_trends(rows)
    y = y.astype(float)
    regression = _fit(encoder, codes, trends, y, 3.0, 10.0)
    naive_bayes, scale = _naive_bayes_part(encoder, codes, y)
    assert scale == pytest.approx(model.naive_bayes_scale, abs=1e-4) and scale > 0
    for i, column in enumerate(encoder.columns):
        assert model.weights[column] == pytest.approx(0.5 * regression[i] + 0.5 * naive_bayes[i])
    assert model.weights[("size", "(trend)")] == pytest.approx(0.5 * regression[encoder.width])
    assert model.intercept == pytest.approx(0.5 * regression[-1] + 0.5 * naive_bayes[-1])
    # Still one weight per value: the logit is the intercept plus the row's weights.
    row = rows[5]
    assert model.logit(row) == pytest.approx(model.intercept + sum(w for _, _, w in model.contributions(row)))
