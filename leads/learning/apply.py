"""Applying a learned model: set-based in SQL for many leads, in Python for one lead's reasons.

The logit is ``intercept + sum of the weights of the lead's feature values``; SQL builds one
``CASE`` per feature from the version's weights table (a JSON key comparison for attributes,
a grouped ``COUNT`` subquery for engagement counts), so re-scoring every lead is a single
``UPDATE`` whatever the number of leads, on PostgreSQL and SQLite alike. The Python path
(`python_logit`) reads the same weights table and the same ``FeatureSpec`` and must agree;
a test checks that on random leads. Numeric features add their trend (slope times the
clamped, standardised value; 0 when missing or not a number).

Unless the policy is rules only, the rule scorer writes ``learned_score`` itself, in its own
single statement, from ``learned_scoring_terms``; ``learned_scores_apply`` is the learned-only
``UPDATE`` for a rules-only policy and for clearing after deactivation. For every lead it has
the scorer's shape (the per-lead SELECT joined to the events of the model's kinds grouped by
lead); for a few leads it counts each lead's events in a correlated subquery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, F, FloatField, Func, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Exp, Greatest, Least
from django.db.models.lookups import IsNull

from leads.models import EngagementEvent, Lead

from .features import ATTR_PREFIX, EVENTS_PREFIX, LEAD_FIELDS, event_counts_for, lead_row
from .learner import MISSING, NUMERIC, TREND, FeatureSpec, LogisticModel
from .models import LearnedModel

# The logit is clamped as the Python sigmoid clamps it, so exp() never overflows.
LOGIT_LIMIT = 35.0
# Open ends of numeric bins on JSON values: comparing with finite bounds also leaves out
# strings and booleans on both databases (their JSON ordering puts them outside numbers).
JSON_NUMBER_MIN, JSON_NUMBER_MAX = -1e300, 1e300
REASON_MIN_WEIGHT = 0.005


def model_weights(model: LearnedModel) -> dict[str, dict[str, float]]:
    """{feature: {value: weight}} of a version."""
    table: dict[str, dict[str, float]] = {}
    for feature, value, weight in model.weights.values_list("feature", "value", "weight"):
        table.setdefault(feature, {})[value] = weight
    return table


def model_logistic(model: LearnedModel) -> LogisticModel:
    weights = {(f, v): w for f, values in model_weights(model).items() for v, w in values.items()}
    specs = [FeatureSpec.from_dict(data) for data in model.features]
    return LogisticModel(specs=specs, weights=weights, intercept=model.intercept, lam=0.0)


# --- SQL -------------------------------------------------------------------------------------


def _bin_q(lookup: str, lower: float | None, upper: float | None, *, json_value: bool) -> Q:
    if json_value:
        lower = JSON_NUMBER_MIN if lower is None else lower
        upper = JSON_NUMBER_MAX if upper is None else upper
    q = Q()
    if lower is not None:
        q &= Q(**{f"{lookup}__gte": lower})
    if upper is not None:
        q &= Q(**{f"{lookup}__lt": upper})
    return q


def _lead_field_expression(spec: FeatureSpec, weights: dict[str, float]):
    name = spec.name
    field = Lead._meta.get_field(name)
    whens = []
    if MISSING in weights:
        missing = Q(**{f"{name}__isnull": True})
        if field.get_internal_type() in ("CharField", "TextField", "EmailField"):
            missing |= Q(**{name: ""})
        whens.append(When(missing, then=Value(weights[MISSING])))
    if spec.kind == NUMERIC:
        whens += _bin_whens(spec, weights, name, json_value=False)
    else:
        boolean = field.get_internal_type() == "BooleanField"
        for value in spec.values:
            if value in weights:
                match = (value == "true") if boolean else value
                whens.append(When(Q(**{name: match}), then=Value(weights[value])))
    values = Case(*whens, default=Value(0.0), output_field=FloatField()) if whens else Value(0.0)
    if spec.kind == NUMERIC:
        return _plus(values, _trend_term(spec, weights, F(name)))
    return values


def _bin_whens(spec: FeatureSpec, weights: dict[str, float], lookup: str, *, json_value: bool) -> list[When]:
    """One ``When`` per weighted quantile bin of a numeric feature."""
    whens = []
    for index in range(len(spec.edges) + 1):
        label = spec.bin_label(index)
        if label in weights:
            lower, upper = spec.bin_bounds(index)
            whens.append(When(_bin_q(lookup, lower, upper, json_value=json_value), then=Value(weights[label])))
    return whens


def _trend_term(spec: FeatureSpec, weights: dict[str, float], number):
    """``slope * (clamp(x) - center) / scale`` for a numeric ``number`` expression; 0 when it
    is NULL (missing or not a number), as in ``FeatureSpec.trend_value``. None without a
    trend. ``number`` appears twice in the SQL; it is a column or a cheap JSON lookup."""
    slope = weights.get(TREND)
    if not slope or not spec.has_trend:
        return None
    clamped = Least(
        Greatest(number, Value(float(spec.low)), output_field=FloatField()),
        Value(float(spec.high)),
        output_field=FloatField(),
    )
    term = Value(slope / spec.scale) * (clamped - Value(float(spec.center)))
    # Not COALESCE(term, 0): PostgreSQL's GREATEST skips NULLs, so the term is never NULL there.
    return Case(When(IsNull(number, True), then=Value(0.0)), default=term, output_field=FloatField())


class JsonNumber(Func):
    """A custom attribute as a float when it is a JSON number, else NULL (strings, booleans,
    null and absent keys alike), as ``FeatureSpec.number`` reads it."""

    output_field = FloatField()

    def __init__(self, key: str):
        super().__init__(F("custom_attributes"))
        self.key = key

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        sql = f"(CASE WHEN jsonb_typeof({column} -> %s) = 'number' THEN ({column} ->> %s)::double precision END)"
        return sql, (*params, self.key, *params, self.key)

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        path = f'$."{self.key}"'  # keys are ATTR_KEY_RE-safe: no quotes or dots
        sql = f"(CASE WHEN json_type({column}, %s) IN ('integer', 'real') THEN json_extract({column}, %s) END)"
        return sql, (*params, path, *params, path)


def _plus(total, term):
    return total if term is None else total + term


def _attr_expression(spec: FeatureSpec, weights: dict[str, float]):
    key = spec.name[len(ATTR_PREFIX) :]
    lookup = f"custom_attributes__{key}"
    whens = []
    if MISSING in weights:
        # As in FeatureSpec.token: absent, JSON null and "" are all missing.
        missing = Q(**{f"{lookup}__isnull": True}) | Q(**{lookup: None}) | Q(**{lookup: ""})
        whens.append(When(missing, then=Value(weights[MISSING])))
    if spec.kind == NUMERIC:
        whens += _bin_whens(spec, weights, lookup, json_value=True)
    else:
        for value in spec.values:
            if value not in weights:
                continue
            match = Q(**{lookup: value})
            if value in ("true", "false"):
                match |= Q(**{lookup: value == "true"})
            whens.append(When(match, then=Value(weights[value])))
    values = Case(*whens, default=Value(0.0), output_field=FloatField()) if whens else Value(0.0)
    if spec.kind == NUMERIC:
        return _plus(values, _trend_term(spec, weights, JsonNumber(key)))
    return values


def _events_expression(features: list[tuple[FeatureSpec, dict[str, float]]]):
    """All engagement-count features in one correlated subquery: a single pass over the
    lead's events (index ``lead, kind``) counts every kind, and each count becomes its bin's
    weight inside the subquery. ``SUM`` here is a plain function, not a Django aggregate, so
    no GROUP BY is added: the subquery always returns one row, counts of 0 included."""
    kinds = [spec.name[len(EVENTS_PREFIX) :] for spec, _ in features]
    counts = {
        f"c{i}": Coalesce(
            Func(Case(When(kind=kind, then=Value(1)), default=Value(0)), function="SUM"),
            Value(0),
            output_field=IntegerField(),
        )
        for i, kind in enumerate(kinds)
    }
    total = _events_total(features, "c")
    per_lead = (
        EngagementEvent.objects.filter(lead_id=OuterRef("pk"), kind__in=kinds)
        .order_by()
        .annotate(**counts)
        .annotate(w=total)
        .values("w")
    )
    return Coalesce(Subquery(per_lead, output_field=FloatField()), Value(0.0))


def _events_total(features: list[tuple[FeatureSpec, dict[str, float]]], prefix: str):
    """The weights of event counts annotated as ``<prefix><i>``: bin weights plus trends."""
    total = Value(0.0)
    for i, (spec, weights) in enumerate(features):
        whens = _bin_whens(spec, weights, f"{prefix}{i}", json_value=False)
        if whens:
            total = total + Case(*whens, default=Value(0.0), output_field=FloatField())
        total = _plus(total, _trend_term(spec, weights, F(f"{prefix}{i}")))
    return total


def _model_terms(model: LearnedModel) -> tuple[object, list]:
    """The model split by where its inputs live: the intercept plus the lead field and
    attribute weights as one expression over the lead row, and the engagement-count features
    (spec, weights) whose counts come from the events. Zero weights are left out. One query
    (the weights)."""
    weights = model_weights(model)
    lead_logit = Value(float(model.intercept))
    event_features = []
    for data in model.features:
        spec = FeatureSpec.from_dict(data)
        feature_weights = {v: w for v, w in weights.get(spec.name, {}).items() if w != 0.0}
        if not feature_weights:
            continue
        if spec.name.startswith(ATTR_PREFIX):
            lead_logit = lead_logit + _attr_expression(spec, feature_weights)
        elif spec.name.startswith(EVENTS_PREFIX):
            event_features.append((spec, feature_weights))
        elif spec.name in LEAD_FIELDS:
            lead_logit = lead_logit + _lead_field_expression(spec, feature_weights)
    return lead_logit, event_features


def logit_expression(model: LearnedModel):
    total, event_features = _model_terms(model)
    if event_features:
        total = total + _events_expression(event_features)
    return Least(Greatest(total, Value(-LOGIT_LIMIT)), Value(LOGIT_LIMIT))


def probability_expression(model: LearnedModel):
    return Value(1.0) / (Value(1.0) + Exp(-logit_expression(model), output_field=FloatField()))


def learned_scores_apply(*, scope: Q | None = None) -> int:
    """Set ``Lead.learned_score`` from the active model for the leads in ``scope`` (all by
    default) in one UPDATE; with no active model clear it (rules only). Returns rows rewritten
    (unchanged ones are skipped).

    Does not touch ``score``. Used when the policy is rules only (the marketer's page still
    shows the probability); otherwise the rule scorer writes ``learned_score`` in its own
    statement (``learned_scoring_terms``) and blends it in blend mode."""
    leads = Lead.objects.filter(scope) if scope is not None else Lead.objects.all()
    model = LearnedModel.objects.active().first()
    if model is None:
        return leads.filter(learned_score__isnull=False).update(learned_score=None)
    # Profiling withdrawn: no learned score (the full-table statement skips them too).
    cleared = leads.filter(do_not_profile=True, learned_score__isnull=False).update(learned_score=None)
    if scope is not None:
        leads = leads.filter(do_not_profile=False)
    return cleared + _update_changed(leads, model)


def _update_changed(leads, model: LearnedModel) -> int:
    """One UPDATE that rewrites only the leads whose probability changed: rewriting a row
    costs far more than computing the sum, and most rows are unchanged between runs. Returns
    rows rewritten. A scope (a few leads) counts each lead's events in a correlated subquery;
    every lead is done as the rule scorer does it, joined to the events grouped by lead once."""
    if leads.query.where:
        expression = probability_expression(model)
        changed = Q(learned_score__isnull=True) | ~Q(learned_score=expression)
        return leads.filter(changed).update(learned_score=expression)
    sql, params = _update_all_sql(learned_scoring_terms(model))
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # PostgreSQL's JIT compiles the long CASE chains for seconds (measured 2.5 s of a
            # 3.2 s statement on 20,000 leads) and saves far less than that; off for this
            # statement only.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.rowcount


def probability_sql(logit: str) -> str:
    """The sigmoid of the SQL ``logit``, clamped as the Python sigmoid clamps it so that EXP
    never overflows (PostgreSQL and SQLite spellings)."""
    greatest, least = ("GREATEST", "LEAST") if connection.vendor == "postgresql" else ("MAX", "MIN")
    return f"(1.0 / (1.0 + EXP(-{least}({greatest}({logit}, -{LOGIT_LIMIT}), {LOGIT_LIMIT}))))"


def learned_logit_sql(terms: ScoringTerms) -> tuple[str, list]:
    """The model's logit in a statement that selects ``learned_logit`` per lead as ``s`` and,
    when the model reads event counts, left-joins ``learned_events`` of the events grouped by
    lead as ``e`` (a lead without events has no row there: ``events_zero``)."""
    if terms.events_logit is None:
        return "s.learned_logit", []
    return "s.learned_logit + COALESCE(e.learned_events, %s)", [terms.events_zero]


def _update_all_sql(terms: ScoringTerms) -> tuple[str, list]:
    """``UPDATE leads SET learned_score = ... FROM (per-lead SELECT) LEFT JOIN (events of the
    model's kinds grouped by lead)``, skipping rows whose probability is unchanged."""
    lead_sql, lead_params = (
        Lead.objects.order_by()
        .annotate(learned_logit=terms.lead_logit)
        .values("id", "learned_logit")
        .query.sql_with_params()
    )
    logit, logit_params = learned_logit_sql(terms)
    join, join_params = "", []
    if terms.events_logit is not None:
        join_sql, join_params = (
            EngagementEvent.objects.filter(kind__in=terms.event_kinds)
            .order_by()
            .values("lead_id")
            .annotate(**terms.event_counts)
            .annotate(learned_events=terms.events_logit)
            .values("lead_id", "learned_events")
            .query.sql_with_params()
        )
        join = f" LEFT JOIN ({join_sql}) AS e ON e.lead_id = s.id"
    probability = probability_sql(logit)
    table = connection.ops.quote_name(Lead._meta.db_table)
    sql = (
        f"UPDATE {table} AS t SET learned_score = {probability} FROM ({lead_sql}) AS s{join} "
        f"WHERE t.id = s.id AND NOT t.do_not_profile AND (t.learned_score IS NULL OR t.learned_score <> {probability})"
    )
    return sql, [*logit_params, *lead_params, *join_params, *logit_params]


@dataclass
class ScoringTerms:
    """The active model split for the rule scorer's statement (``leads.scoring``), so that one
    ``UPDATE`` writes rule scores and the learned probability together: ``lead_logit`` (the
    intercept plus lead field and attribute weights) is a column of the per-lead SELECT;
    ``event_counts`` and ``events_logit`` (the weights of engagement counts) are columns of
    the events grouped by lead, which that statement aggregates anyway; ``events_zero`` is
    ``events_logit`` for a lead without events (it has no row there)."""

    lead_logit: object
    event_counts: dict
    events_logit: object | None
    events_zero: float
    event_kinds: tuple[str, ...] = ()


def learned_scoring_terms(model: LearnedModel | None = None) -> ScoringTerms | None:
    """The terms of ``model`` (default: the active model), or None without an active model
    (one query for the model, one for its weights)."""
    model = model or LearnedModel.objects.active().first()
    if model is None:
        return None
    lead_logit, event_features = _model_terms(model)
    if not event_features:
        return ScoringTerms(lead_logit=lead_logit, event_counts={}, events_logit=None, events_zero=0.0)
    kinds = tuple(spec.name[len(EVENTS_PREFIX) :] for spec, _ in event_features)
    event_counts = {
        f"learned_n{i}": Sum(Case(When(kind=kind, then=Value(1)), default=Value(0)), output_field=IntegerField())
        for i, kind in enumerate(kinds)
    }
    logistic = LogisticModel(
        specs=[spec for spec, _ in event_features],
        weights={(spec.name, v): w for spec, fw in event_features for v, w in fw.items()},
        intercept=0.0,
        lam=0.0,
    )
    zero = sum(w for _, _, w in logistic.contributions({spec.name: 0 for spec, _ in event_features}))
    return ScoringTerms(
        lead_logit=lead_logit,
        event_counts=event_counts,
        events_logit=_events_total(event_features, "learned_n"),
        events_zero=float(zero),
        event_kinds=kinds,
    )


# --- Python ----------------------------------------------------------------------------------


def python_logit(model: LogisticModel, lead: Lead, event_counts: dict[str, int] | None = None) -> float:
    return max(-LOGIT_LIMIT, min(LOGIT_LIMIT, model.logit(lead_row(lead, event_counts))))


def python_probability(model: LogisticModel, lead: Lead, event_counts: dict[str, int] | None = None) -> float:
    return 1.0 / (1.0 + math.exp(-python_logit(model, lead, event_counts)))


def learned_reasons(lead: Lead, *, model: LearnedModel | None = None) -> list[dict]:
    """Why the active model scores this lead as it does: one entry per feature value with a
    weight, strongest first, e.g. ``{"text": "industry = software: +0.42", ...}``. Empty when
    no model is active."""
    model = model or LearnedModel.objects.active().first()
    if model is None:
        return []
    logistic = model_logistic(model)
    counts = event_counts_for([lead.pk]).get(lead.pk, {})
    reasons = [
        {"feature": feature, "value": value, "weight": round(weight, 4), "text": f"{feature} = {value}: {weight:+.2f}"}
        for feature, value, weight in logistic.contributions(lead_row(lead, counts))
        if abs(weight) >= REASON_MIN_WEIGHT
    ]
    reasons.sort(key=lambda r: -abs(r["weight"]))
    return reasons
