"""Applying a learned model: set-based in SQL for many leads, in Python for one lead's reasons.

The logit is ``intercept + the weight of each of the lead's field values + the weight of
each of its pairs of values + trends``; SQL reads each lead field and attribute once per lead
(a number, or the number of the value it holds: ``_ReadOnce``), then builds one ``CASE`` per
field from the version's weights table and one nested ``CASE`` per two-field table over those
reads (over grouped counts for engagement counts), so re-scoring every lead is a single
``UPDATE`` whatever the number of leads, on PostgreSQL and SQLite alike. Numeric bins are one
ordered chain of upper bounds, and branches whose weight the next branch (or the ``ELSE``)
gives anyway are left out, which changes no result. The Python path (``python_logit``) reads
the same tables and the same ``FeatureSpec`` and must agree; tests check that on random leads
and against the training library's own prediction.

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
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce, Exp, Greatest, Least
from django.db.models.lookups import Exact, IsNull, LessThan

from leads.models import EngagementEvent, Lead

from .features import ATTR_PREFIX, EVENTS_PREFIX, LEAD_FIELDS, event_counts_for, lead_row
from .learner import CATEGORICAL, MISSING, NUMERIC, OTHER, PAIR_SEPARATOR, TREND, AdditiveModel, FeatureSpec, PairTerm
from .models import LearnedModel, LearnedPairWeight

# The logit is clamped as the Python sigmoid clamps it, so exp() never overflows.
LOGIT_LIMIT = 35.0
REASON_MIN_WEIGHT = 0.005


def model_weights(model: LearnedModel) -> dict[str, dict[str, float]]:
    """{feature: {value: weight}} of a version."""
    table: dict[str, dict[str, float]] = {}
    for feature, value, weight in model.weights.values_list("feature", "value", "weight"):
        table.setdefault(feature, {})[value] = weight
    return table


def model_pairs(model: LearnedModel) -> list[PairTerm]:
    """The two-field tables of a version, in the order they were trained."""
    pairs: dict[tuple[str, str], PairTerm] = {}
    rows = LearnedPairWeight.objects.filter(model=model).order_by("id")
    for first, second, a, b, weight in rows.values_list("first", "second", "first_value", "second_value", "weight"):
        pair = pairs.setdefault((first, second), PairTerm(first=first, second=second, weights={}))
        pair.weights[(a, b)] = weight
    return list(pairs.values())


def model_additive(model: LearnedModel) -> AdditiveModel:
    """The version as the Python application reads it (two queries: weights, pairs)."""
    weights = {(f, v): w for f, values in model_weights(model).items() for v, w in values.items()}
    specs = [FeatureSpec.from_dict(data) for data in model.features]
    return AdditiveModel(specs=specs, weights=weights, intercept=model.intercept, pairs=model_pairs(model))


# --- SQL -------------------------------------------------------------------------------------


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


def _number(spec: FeatureSpec, count_column=None):
    """The SQL number a numeric spec reads (NULL when missing or not a number): the lead's
    column or attribute, or ``count_column`` (a column name, or an expression: a read once)."""
    if count_column is not None:
        return F(count_column) if isinstance(count_column, str) else count_column
    if spec.name.startswith(ATTR_PREFIX):
        return JsonNumber(spec.name[len(ATTR_PREFIX) :])
    return F(spec.name)


@dataclass
class _Reader:
    """How SQL reads a spec's tokens: ``branches`` (token, condition) tried in order, and the
    token of every row no branch takes (``rest``). ``ordered``: numeric bins, where a branch
    holds only the rows the branches before it left (an upper bound each)."""

    branches: list[tuple[str, object]]
    rest: str
    ordered: bool


@dataclass
class _Indexed:
    """A categorical spec read once per lead: ``index`` is the number of the first branch of
    its lead-row reader that holds (``tokens[index]``; ``len(tokens) - 1`` for the rest)."""

    index: object
    tokens: list[str]


def _reader(spec: FeatureSpec, *, pair: bool = False, count_column=None) -> _Reader:
    if isinstance(count_column, _Indexed):
        # The branch numbers exclude each other, so ``_case`` may drop any of them.
        *tokens, rest = count_column.tokens
        branches = [(token, Exact(count_column.index, Value(i))) for i, token in enumerate(tokens)]
        return _Reader(branches=branches, rest=rest, ordered=False)
    if spec.kind == NUMERIC:
        x = _number(spec, count_column)
        edges = spec.pair_edges if pair else spec.edges
        tokens = spec.tokens(pair=pair)[:-1]
        branches = [(MISSING, IsNull(x, True))]
        branches += [(token, LessThan(x, Value(float(edge)))) for token, edge in zip(tokens, edges, strict=False)]
        return _Reader(branches=branches, rest=tokens[-1], ordered=True)
    if spec.name.startswith(ATTR_PREFIX):
        lookup = f"custom_attributes__{spec.name[len(ATTR_PREFIX) :]}"
        # As in FeatureSpec.text: absent, JSON null and "" are all missing.
        branches = [(MISSING, Q(**{f"{lookup}__isnull": True}) | Q(**{lookup: None}) | Q(**{lookup: ""}))]
        for value in spec.values:
            match = Q(**{lookup: value})
            if value in ("true", "false"):
                match |= Q(**{lookup: value == "true"})
            branches.append((value, match))
        return _Reader(branches=branches, rest=OTHER, ordered=False)
    name = spec.name
    field = Lead._meta.get_field(name)
    if field.get_internal_type() == "BooleanField":
        branches = [(MISSING, Q(**{f"{name}__isnull": True}))]
        branches += [(v, Q(**{name: v == "true"})) for v in spec.values if v in ("true", "false")]
    else:
        branches = [(MISSING, Q(**{f"{name}__isnull": True}) | Q(**{name: ""}))]
        branches += [(v, Q(**{name: v})) for v in spec.values]
    return _Reader(branches=branches, rest=OTHER, ordered=False)


def _case(reader: _Reader, value_of, build):
    """``CASE`` over the reader's branches giving ``build(token)``; a branch whose
    ``value_of`` equals what the rows would get without it is left out."""
    rest_value = value_of(reader.rest)
    if reader.ordered:
        (missing, missing_condition), bins = reader.branches[0], reader.branches[1:]
        kept, following = [], rest_value
        for token, condition in reversed(bins):
            if value_of(token) != following:
                kept.append((token, condition))
                following = value_of(token)
        kept.reverse()
        # A NULL matches no bound, so missing falls through to the rest, not the next bin.
        if value_of(missing) != rest_value:
            kept.insert(0, (missing, missing_condition))
    else:
        kept = [(token, condition) for token, condition in reader.branches if value_of(token) != rest_value]
    if not kept:
        return build(reader.rest)
    whens = [When(condition, then=build(token)) for token, condition in kept]
    return Case(*whens, default=build(reader.rest), output_field=FloatField())


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


def _main_term(spec: FeatureSpec, weights: dict[str, float], count_column=None):
    """The spec's value weight plus its trend, or None when it adds nothing."""
    total = None
    if (spec.kind == CATEGORICAL or spec.binned) and any(weights.get(token, 0.0) for token in spec.tokens()):

        def weight(token):
            return weights.get(token, 0.0)

        total = _case(_reader(spec, count_column=count_column), weight, lambda t: Value(weight(t)))
    trend = _trend_term(spec, weights, _number(spec, count_column)) if spec.has_trend else None
    if trend is not None:
        total = trend if total is None else total + trend
    return total


def _pair_term(pair: PairTerm, first: FeatureSpec, second: FeatureSpec, columns: dict[str, str] | None = None):
    """A two-field table as a ``CASE`` on the first field whose branches are ``CASE``s on the
    second; None when every cell is 0."""
    if not any(pair.weights.values()):
        return None
    columns = columns or {}
    inner = _reader(second, pair=True, count_column=columns.get(second.name))
    outer = _reader(first, pair=True, count_column=columns.get(first.name))
    second_tokens = second.tokens(pair=True)

    def row(a):
        return tuple(pair.weights.get((a, b), 0.0) for b in second_tokens)

    def inner_case(a):
        def weight(b):
            return pair.weights.get((a, b), 0.0)

        return _case(inner, weight, lambda b: Value(weight(b)))

    return _case(outer, row, inner_case)


def _plus(total, term):
    return total if term is None else total + term


@dataclass
class _EventSide:
    """The model's engagement-count terms: specs (count ``i`` is annotated ``<prefix><i>``),
    their weights and the pairs of two counts."""

    specs: list[FeatureSpec]
    weights: dict[str, dict[str, float]]
    pairs: list[PairTerm]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(spec.name[len(EVENTS_PREFIX) :] for spec in self.specs)

    def total(self, prefix: str):
        columns = {spec.name: f"{prefix}{i}" for i, spec in enumerate(self.specs)}
        by_name = {spec.name: spec for spec in self.specs}
        total = Value(0.0)
        for spec in self.specs:
            total = _plus(total, _main_term(spec, self.weights.get(spec.name, {}), columns[spec.name]))
        for pair in self.pairs:
            total = _plus(total, _pair_term(pair, by_name[pair.first], by_name[pair.second], columns))
        return total

    def zero(self) -> float:
        """The terms' logit for a lead without events (every count 0)."""
        model = AdditiveModel(
            specs=self.specs,
            weights={(s.name, v): w for s in self.specs for v, w in self.weights.get(s.name, {}).items()},
            intercept=0.0,
            pairs=self.pairs,
        )
        return float(model.logit({spec.name: 0 for spec in self.specs}))


class _Slot(Expression):
    """A column of the reads of ``_ReadOnce`` (``learned_reads.<alias>``)."""

    def __init__(self, alias: str, output_field):
        super().__init__(output_field=output_field)
        self.alias = alias

    def __repr__(self) -> str:
        return f"_Slot({self.alias})"

    def as_sql(self, compiler, connection):
        return f"learned_reads.{connection.ops.quote_name(self.alias)}", []


class _ReadOnce(Expression):
    """``logit`` over columns each read once per lead: ``(SELECT logit FROM (SELECT read AS
    alias, ...) AS learned_reads)``, a subquery correlated with the lead row.

    A field appears in its own term and in every two-field table it is part of, each a
    ``CASE`` that reads it once per branch tried; JSON attributes made that the cost of the
    statement (every read parses a key out of ``custom_attributes``). Here a numeric field is
    read once as a number and a categorical one as the number of the branch it takes, and the
    terms compare those. ``OFFSET 0`` keeps the planners (PostgreSQL's subquery pull-up,
    SQLite's flattening) from substituting the reads back into every reference."""

    output_field = FloatField()

    def __init__(self, reads: list[tuple[str, object]], logit):
        super().__init__()
        self.aliases = [alias for alias, _ in reads]
        self.reads = [read for _, read in reads]
        self.logit = logit

    def __repr__(self) -> str:
        reads = ", ".join(f"{alias}={read!r}" for alias, read in zip(self.aliases, self.reads, strict=True))
        return f"_ReadOnce({reads}; {self.logit!r})"

    def get_source_expressions(self):
        return [*self.reads, self.logit]

    def set_source_expressions(self, exprs):
        *self.reads, self.logit = exprs

    def as_sql(self, compiler, connection):
        logit_sql, params = compiler.compile(self.logit)
        if not self.reads:
            return logit_sql, params
        columns = []
        for alias, read in zip(self.aliases, self.reads, strict=True):
            read_sql, read_params = compiler.compile(read)
            columns.append(f"{read_sql} AS {connection.ops.quote_name(alias)}")
            params = [*params, *read_params]
        fence = "OFFSET 0" if connection.vendor == "postgresql" else "LIMIT -1 OFFSET 0"
        return f"(SELECT {logit_sql} FROM (SELECT {', '.join(columns)} {fence}) AS learned_reads)", params


def _read_once(spec: FeatureSpec, alias: str):
    """(the read of ``spec`` over the lead row, what the terms read instead)."""
    if spec.kind == NUMERIC:
        return _number(spec), _Slot(alias, FloatField())
    reader = _reader(spec)
    tokens = [token for token, _ in reader.branches] + [reader.rest]
    index = Case(
        *[When(condition, then=Value(i)) for i, (_, condition) in enumerate(reader.branches)],
        default=Value(len(reader.branches)),
        output_field=IntegerField(),
    )
    return index, _Indexed(index=_Slot(alias, IntegerField()), tokens=tokens)


def _model_terms(model: LearnedModel) -> tuple[object, _EventSide | None]:
    """The model split by where its inputs live: the intercept plus the lead field and
    attribute terms (and their pairs) as one expression over the lead row, and the
    engagement-count terms whose counts come from the events (None when there are none).
    Two queries (weights, pairs)."""
    weights = model_weights(model)
    specs = {data["name"]: FeatureSpec.from_dict(data) for data in model.features}
    event_specs, lead_specs = [], []
    for spec in specs.values():
        if spec.name.startswith(EVENTS_PREFIX):
            event_specs.append(spec)
        elif spec.name.startswith(ATTR_PREFIX) or spec.name in LEAD_FIELDS:
            lead_specs.append(spec)
    event_pairs, lead_pairs = [], []
    for pair in model_pairs(model):
        sides = {pair.first.startswith(EVENTS_PREFIX), pair.second.startswith(EVENTS_PREFIX)}
        if sides == {True}:
            event_pairs.append(pair)
        elif sides == {False}:
            lead_pairs.append(pair)
        else:  # pragma: no cover - training never pairs the two sides (boosting.train_ebm group)
            raise ValueError(f"Pair {pair.name} mixes a lead field with an engagement count.")
    lead_logit = _lead_logit(float(model.intercept), lead_specs, weights, lead_pairs, specs)
    used = {p.first for p in event_pairs} | {p.second for p in event_pairs}
    event_specs = [
        s for s in event_specs if s.name in used or any(weights.get(s.name, {}).get(t) for t in s.tokens() + [TREND])
    ]
    if not event_specs:
        return lead_logit, None
    return lead_logit, _EventSide(specs=event_specs, weights=weights, pairs=event_pairs)


def _lead_logit(intercept: float, lead_specs, weights, pairs: list[PairTerm], specs: dict[str, FeatureSpec]):
    """The intercept plus the lead field and attribute terms and their pairs, each field read
    once per lead (``_ReadOnce``); terms in the order of the Python sum."""
    terms = [(spec, _main_term(spec, weights.get(spec.name, {}))) for spec in lead_specs]
    terms = [(spec, term) for spec, term in terms if term is not None]
    used = [s.name for s, _ in terms] + [
        name for pair in pairs if any(pair.weights.values()) for name in (pair.first, pair.second)
    ]
    reads, sources = [], {}
    for name in dict.fromkeys(used):
        read, sources[name] = _read_once(specs[name], f"r{len(reads)}")
        reads.append((f"r{len(reads)}", read))
    logit = Value(intercept)
    for spec, _ in terms:
        logit = _plus(logit, _main_term(spec, weights.get(spec.name, {}), sources[spec.name]))
    for pair in pairs:
        logit = _plus(logit, _pair_term(pair, specs[pair.first], specs[pair.second], sources))
    return _ReadOnce(reads, logit)


def _events_expression(side: _EventSide):
    """All engagement-count terms in one correlated subquery: a single pass over the lead's
    events (index ``lead, kind``) counts every kind, and the counts' weights are summed inside
    the subquery. ``SUM`` here is a plain function, not a Django aggregate, so no GROUP BY is
    added: the subquery always returns one row, counts of 0 included."""
    counts = {
        f"c{i}": Coalesce(
            Func(Case(When(kind=kind, then=Value(1)), default=Value(0)), function="SUM"),
            Value(0),
            output_field=IntegerField(),
        )
        for i, kind in enumerate(side.kinds)
    }
    per_lead = (
        EngagementEvent.objects.filter(lead_id=OuterRef("pk"), kind__in=side.kinds)
        .order_by()
        .annotate(**counts)
        .annotate(w=side.total("c"))
        .values("w")
    )
    return Coalesce(Subquery(per_lead, output_field=FloatField()), Value(0.0))


def logit_expression(model: LearnedModel):
    total, side = _model_terms(model)
    if side is not None:
        total = total + _events_expression(side)
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
    if scope is not None:
        # Profiling withdrawn: no learned score (the full-table statement clears them itself).
        cleared = leads.filter(do_not_profile=True, learned_score__isnull=False).update(learned_score=None)
        return cleared + _update_changed(leads.filter(do_not_profile=False), model)
    return _update_changed(leads, model)


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
    # The probability is read twice below: the fence keeps the planners from computing the
    # per-lead SELECT (the model) once per reference.
    lead_sql = f"{lead_sql} {'OFFSET 0' if connection.vendor == 'postgresql' else 'LIMIT -1 OFFSET 0'}"
    probability = probability_sql(logit)
    table = connection.ops.quote_name(Lead._meta.db_table)
    sql = (
        f"UPDATE {table} AS t SET learned_score = CASE WHEN t.do_not_profile THEN NULL ELSE {probability} END "
        f"FROM ({lead_sql}) AS s{join} WHERE t.id = s.id AND ("
        f"(t.do_not_profile AND t.learned_score IS NOT NULL) OR (NOT t.do_not_profile AND "
        f"(t.learned_score IS NULL OR t.learned_score <> {probability})))"
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
    (one query for the model, two for its weights and pairs)."""
    model = model or LearnedModel.objects.active().first()
    if model is None:
        return None
    lead_logit, side = _model_terms(model)
    if side is None:
        return ScoringTerms(lead_logit=lead_logit, event_counts={}, events_logit=None, events_zero=0.0)
    event_counts = {
        f"learned_n{i}": Sum(Case(When(kind=kind, then=Value(1)), default=Value(0)), output_field=IntegerField())
        for i, kind in enumerate(side.kinds)
    }
    return ScoringTerms(
        lead_logit=lead_logit,
        event_counts=event_counts,
        events_logit=side.total("learned_n"),
        events_zero=side.zero(),
        event_kinds=side.kinds,
    )


# --- Python ----------------------------------------------------------------------------------


def python_logit(model: AdditiveModel, lead: Lead, event_counts: dict[str, int] | None = None) -> float:
    return max(-LOGIT_LIMIT, min(LOGIT_LIMIT, model.logit(lead_row(lead, event_counts))))


def python_probability(model: AdditiveModel, lead: Lead, event_counts: dict[str, int] | None = None) -> float:
    return 1.0 / (1.0 + math.exp(-python_logit(model, lead, event_counts)))


def learned_reasons(lead: Lead, *, model: LearnedModel | None = None) -> list[dict]:
    """Why the active model scores this lead as it does: one entry per field value and per
    pair of values with a weight, strongest first, e.g. ``{"text": "industry = software:
    +0.42", ...}`` or ``"industry x employees = software x 50 to < 250: +0.11"``. Empty when
    no model is active."""
    model = model or LearnedModel.objects.active().first()
    if model is None:
        return []
    additive = model_additive(model)
    counts = event_counts_for([lead.pk]).get(lead.pk, {})
    reasons = [
        {
            "feature": feature,
            "value": value,
            "weight": round(weight, 4),
            "pair": PAIR_SEPARATOR in feature,
            "text": f"{feature} = {value}: {weight:+.2f}",
        }
        for feature, value, weight in additive.contributions(lead_row(lead, counts))
        if abs(weight) >= REASON_MIN_WEIGHT
    ]
    reasons.sort(key=lambda r: -abs(r["weight"]))
    return reasons
