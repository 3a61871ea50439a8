"""Scoring and qualification.

A lead's score is computed from the active rules and its events by one SQL statement, the
same one whether it scores one lead (an event arrived) or every lead (a rule changed): an ``UPDATE ... FROM (SELECT ...)`` whose inner SELECT is built by the ORM
with one column per rule. So per-lead and set-based scoring cannot disagree, and the number of
statements does not depend on the number of leads.

- Fit rule: points when its condition holds (a segment condition, or membership of a segment
  such as the ICP).
- Engagement rule: ``points_per_event * 0.5 ** (age_days / half_life)`` summed over the lead's
  events of the kind, capped. Events dated in the future count as age 0.
- Rejection penalty: ``policy.rejection_penalty`` per time sales rejected the lead, taken off
  engagement (never below 0).
- score = fit + engagement (+ ``learned_weight * learned_score`` in blend mode).
- Learned model (``leads.learning``): unless the policy is rules only, the same statement
  writes ``learned_score``, the active model's probability: its lead-field weights are a
  column of the per-lead SELECT and its engagement-count weights a column of the events
  grouped by lead (``learned_scoring_terms``), so the model costs no second pass.

``score_breakdown`` lists each rule that gave points (``{"rule_id", "rule", "kind",
"points"}``), plus the penalty and learned entries when they apply; its points add up to the
score. Engagement is aggregated in one pass over the events (grouped by lead) and joined in.

The nightly job (``leads_rescore_daily``) runs that statement only for the leads whose inputs
changed since its last run and moves every other engaged lead forward by decay alone, from the
uncapped per-rule sums the statement keeps in ``Lead.engagement_raw``.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, FloatField, Func, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Least, Power
from django.utils import timezone

from . import enqueue
from .learned_scoring import learned_scoring
from .lifecycle import lead_transition
from .locks import rescore_all_turn, rescore_lock
from .models import (
    DailyRescore,
    EngagementEvent,
    Lead,
    LeadOutcome,
    LeadTransition,
    LearnedScoreMode,
    LifecycleStage,
    RuleKind,
    ScoringPolicy,
    ScoringRule,
)
from .segments import compile_condition, segment_member_q, validate_condition
from .signals import lead_qualified

logger = logging.getLogger(__name__)
S = LifecycleStage

REASON_QUALIFIED = "qualified"
REASON_ENGAGED = "engaged"
QUALIFIABLE_STAGES = (S.NEW, S.ENGAGED, S.RECYCLED)


class AgeDays(Func):
    """Days from the event column to ``now`` (a parameter), never negative."""

    output_field = FloatField()

    def __init__(self, now: datetime.datetime, column: str = "occurred_at"):
        super().__init__(Value(now), F(column))

    def as_postgresql(self, compiler, connection, **extra):
        now_sql, now_params = compiler.compile(self.source_expressions[0])
        col_sql, col_params = compiler.compile(self.source_expressions[1])
        sql = f"GREATEST(EXTRACT(EPOCH FROM ({now_sql}::timestamptz - {col_sql}))::double precision / 86400.0, 0.0)"
        return sql, (*now_params, *col_params)

    def as_sqlite(self, compiler, connection, **extra):
        now_sql, now_params = compiler.compile(self.source_expressions[0])
        col_sql, col_params = compiler.compile(self.source_expressions[1])
        return f"MAX(julianday({now_sql}) - julianday({col_sql}), 0.0)", (*now_params, *col_params)


@dataclass(frozen=True)
class RuleSet:
    policy: ScoringPolicy
    fit: tuple[ScoringRule, ...]
    engagement: tuple[ScoringRule, ...]


def rule_set_current() -> RuleSet:
    """The policy and the active rules (two queries)."""
    policy = ScoringPolicy.current()
    rules = list(
        ScoringRule.objects.filter(is_active=True).select_related("segment").order_by("kind", "position", "id")
    )
    return RuleSet(
        policy=policy,
        fit=tuple(r for r in rules if r.kind == RuleKind.FIT),
        engagement=tuple(r for r in rules if r.kind == RuleKind.ENGAGEMENT),
    )


def fit_rule_q(rule: ScoringRule, *, now: datetime.datetime) -> Q:
    if rule.segment_id:
        return segment_member_q(rule.segment)
    return compile_condition({"field": rule.field, "op": rule.operator, "value": rule.value}, now=now)


def scoring_rule_validate(rule: ScoringRule) -> None:
    """Refuse a rule that cannot be scored, naming the field (used by the admin form and API)."""
    if rule.kind == RuleKind.FIT:
        if rule.segment_id:
            return
        if not rule.field:
            raise ValidationError({"field": "A fit rule needs a field (or a segment)."})
        try:
            validate_condition({"field": rule.field, "op": rule.operator, "value": rule.value})
        except ValidationError as exc:
            raise ValidationError(
                {
                    {"definition.field": "field", "definition.op": "operator", "definition.value": "value"}.get(k, k): v
                    for k, v in exc.message_dict.items()
                }
            ) from exc
    elif not rule.event_kind:
        raise ValidationError({"event_kind": "An engagement rule needs an event kind."})


def _half_life(rule: ScoringRule, policy: ScoringPolicy) -> float:
    return rule.half_life_days or policy.default_half_life_days


def _fit_columns(rules: RuleSet, now: datetime.datetime) -> dict:
    """One SELECT column per fit rule (``f<i>``) plus the rejection count."""
    columns: dict = {}
    for i, rule in enumerate(rules.fit):
        columns[f"f{i}"] = Case(
            When(fit_rule_q(rule, now=now), then=Value(rule.points)), default=Value(0), output_field=IntegerField()
        )
    if rules.policy.rejection_penalty:
        rejected = (
            LeadTransition.objects.filter(lead=OuterRef("pk"), outcome=LeadOutcome.REJECTED)
            .order_by()
            .values("lead")
            .annotate(n=Func(F("id"), function="COUNT", output_field=IntegerField()))
            .values("n")
        )
        columns["rejections"] = Coalesce(Subquery(rejected, output_field=IntegerField()), Value(0))
    return columns


def _engagement_columns(rules: RuleSet, now: datetime.datetime, *, raw: bool = False) -> dict:
    """One aggregate per engagement rule (``e<i>``) over the events, grouped by lead: a single
    pass over the events instead of one lookup per lead and rule. With ``raw`` the sums are
    not capped (the scorer caps them itself and keeps the raw sums for the daily decay)."""
    columns: dict = {}
    for i, rule in enumerate(rules.engagement):
        decay = Power(Value(0.5), AgeDays(now) / Value(float(_half_life(rule, rules.policy))))
        total = Coalesce(
            Sum(Value(float(rule.points_per_event)) * decay, filter=Q(kind=rule.event_kind), output_field=FloatField()),
            Value(0.0),
            output_field=FloatField(),
        )
        if rule.cap is not None and not raw:
            total = Least(total, Value(float(rule.cap)), output_field=FloatField())
        columns[f"e{i}"] = total
    return columns


def _capped(rule: ScoringRule, i: int, pg: bool) -> str:
    """Rule ``i``'s engagement points: its raw sum ``e.e<i>`` up to the cap."""
    total = f"COALESCE(e.e{i}, 0.0)"
    if rule.cap is None:
        return total
    return f"{'LEAST' if pg else 'MIN'}({total}, {float(rule.cap)!r})"


def _update_sql(
    rules: RuleSet,
    fit_sql: str,
    fit_params,
    eng_sql: str | None,
    eng_params,
    now: datetime.datetime,
    learned=None,
):
    """The UPDATE wrapped around the ORM-built SELECTs; vendor differences are only in names.

    The breakdown keeps the rules that gave points (non-zero), biggest first is left to readers.
    ``learned`` (``ScoringTerms``) adds ``learned_score`` from ``s.learned_logit`` and
    ``e.learned_events``.
    """
    pg = connection.vendor == "postgresql"
    if connection.vendor not in ("postgresql", "sqlite"):  # pragma: no cover
        raise NotImplementedError(f"Scoring supports PostgreSQL and SQLite, not {connection.vendor}.")
    array, obj = ("jsonb_build_array", "jsonb_build_object") if pg else ("json_array", "json_object")
    text = "::text" if pg else ""
    params: list = []
    entries = []
    for i, rule in enumerate(rules.fit):
        entries.append(f"{obj}('rule_id', %s, 'rule', %s{text}, 'kind', 'fit', 'points', s.f{i})")
        params += [rule.pk, rule.name]
    for i, rule in enumerate(rules.engagement):
        entries.append(
            f"{obj}('rule_id', %s, 'rule', %s{text}, 'kind', 'engagement', 'points', {_capped(rule, i, pg)})"
        )
        params += [rule.pk, rule.name]
    fit = " + ".join(f"s.f{i}" for i in range(len(rules.fit))) or "0"
    raw_engagement = " + ".join(_capped(rule, i, pg) for i, rule in enumerate(rules.engagement)) or "0.0"
    # The uncapped sums as of now, for the daily decay (keys: rule ids, "n": rejections).
    raw_items = [f"'{int(rule.pk)}', COALESCE(e.e{i}, 0.0)" for i, rule in enumerate(rules.engagement)]
    raw_items.append(f"'n', {'s.rejections' if rules.policy.rejection_penalty else '0'}")
    engagement_raw = f"{obj}({', '.join(raw_items)})"
    greatest = "GREATEST" if pg else "MAX"
    penalty = float(rules.policy.rejection_penalty or 0)
    penalty_params: list = []
    if penalty:
        entries.append(
            f"{obj}('rule_id', NULL, 'rule', 'Rejected by sales', 'kind', 'penalty', 'points', -(%s * s.rejections))"
        )
        params += [penalty]
        engagement = f"{greatest}(({raw_engagement}) - %s * s.rejections, 0.0)"
        penalty_params = [penalty]
    else:
        engagement = f"({raw_engagement})"
    probability, probability_params, learned_set = "COALESCE(t.learned_score, 0.0)", [], ""
    if learned is not None:
        provider = learned_scoring()
        # The events grouped by lead (``e``) are always joined when the model reads counts.
        logit, probability_params = provider.logit_sql(learned)
        # Profiling withdrawn (``do_not_profile``): the model does not score the lead at all.
        probability = f"(CASE WHEN t.do_not_profile THEN NULL ELSE {provider.probability_sql(logit)} END)"
        learned_set = f"learned_score = {probability}, "
    learned = ""
    learned_params: list = []
    if rules.policy.learned_mode == LearnedScoreMode.BLEND and rules.policy.learned_weight:
        probability = f"COALESCE({probability}, 0.0)"
        learned = f" + %s * {probability}"
        learned_params = [float(rules.policy.learned_weight), *probability_params]
        entries.append(
            f"{obj}('rule_id', NULL, 'rule', 'Learned model', 'kind', 'learned', 'points', %s * {probability})"
        )
        params += [float(rules.policy.learned_weight), *probability_params]
    built = f"{array}({', '.join(entries)})"
    # Keep only the entries that gave points: a breakdown reads as "why", and rows stay small.
    if pg:
        breakdown = f"jsonb_path_query_array({built}, '$[*] ? (@.points != 0)')"
    else:
        breakdown = (
            f"(SELECT json_group_array(json(value)) FROM json_each({built}) WHERE json_extract(value, '$.points') != 0)"
        )
    table = connection.ops.quote_name(Lead._meta.db_table)
    join = f" LEFT JOIN ({eng_sql}) AS e ON e.lead_id = s.id" if eng_sql else ""
    if learned_set:
        # The learned logit is read three times below; without the fence the planners
        # substitute the per-lead SELECT into each reference and compute the model three times.
        fit_sql = f"{fit_sql} {'OFFSET 0' if pg else 'LIMIT -1 OFFSET 0'}"
    sql = (
        f"UPDATE {table} AS t SET "
        f"fit_score = ({fit}), "
        f"engagement_score = {engagement}, "
        f"score = ({fit}) + {engagement}{learned}, "
        f"score_breakdown = {breakdown}, "
        f"engagement_raw = {engagement_raw}, "
        f"{learned_set}"
        f"scored_at = %s "
        f"FROM ({fit_sql}) AS s{join} WHERE t.id = s.id"
    )
    learned_set_params = probability_params if learned_set else []
    all_params = [
        *penalty_params,
        *penalty_params,
        *learned_params,
        *params,
        *learned_set_params,
        now,
        *fit_params,
        *(eng_params or ()),
    ]
    return sql, all_params


def _rescore(
    lead_ids: list[int] | None,
    *,
    now: datetime.datetime | None = None,
    rules: RuleSet | None = None,
    id_range: tuple[int, int] | None = None,
) -> int:
    """Score the given leads (None: every lead, or those with ``lo <= id < hi`` for an
    ``id_range``) with one UPDATE; returns the rows scored."""
    now = now or timezone.now()
    rules = rules or rule_set_current()
    learned = None
    provider = learned_scoring()
    if rules.policy.learned_mode != LearnedScoreMode.OFF and provider is not None:
        learned = provider.scoring_terms()
    leads = Lead.objects.all() if lead_ids is None else Lead.objects.filter(pk__in=lead_ids)
    events = EngagementEvent.objects.all() if lead_ids is None else EngagementEvent.objects.filter(lead_id__in=lead_ids)
    if id_range is not None:
        leads = leads.filter(pk__gte=id_range[0], pk__lt=id_range[1])
        events = events.filter(lead_id__gte=id_range[0], lead_id__lt=id_range[1])
    columns = _fit_columns(rules, now)
    if learned is not None:
        columns["learned_logit"] = learned.lead_logit
    fit_sql, fit_params = leads.order_by().annotate(**columns).values("id", *columns).query.sql_with_params()
    eng_sql, eng_params = None, None
    learned_counts = learned.event_counts if learned is not None else {}
    if rules.engagement or learned_counts:
        eng_columns = _engagement_columns(rules, now, raw=True)
        grouped = events.order_by().values("lead_id").annotate(**eng_columns, **learned_counts)
        selected = list(eng_columns)
        if learned_counts:
            grouped = grouped.annotate(learned_events=learned.events_logit)
            selected.append("learned_events")
        eng_sql, eng_params = grouped.values("lead_id", *selected).query.sql_with_params()
    sql, params = _update_sql(rules, fit_sql, fit_params, eng_sql, eng_params, now, learned)
    if connection.vendor == "sqlite":
        params = [
            connection.ops.adapt_datetimefield_value(p) if isinstance(p, datetime.datetime) else p for p in params
        ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def leads_rescore_all(*, now: datetime.datetime | None = None, qualify: bool = True) -> int:
    """Re-score every lead in one UPDATE (plus two reads of the rules); returns rows scored.

    With ``qualify`` it enqueues, on commit, the task that moves leads that now qualify to MQL
    (each through the lifecycle service, so each move is recorded and announced).

    One at a time (``leads.locks.rescore_all_turn``): it waits for a running re-score, or
    returns 0 without work when another is already waiting to run next (that one covers it).
    """
    with rescore_all_turn() as my_turn:
        if not my_turn:
            return 0
        count = _rescore(None, now=now)
    if qualify:
        enqueue.leads_qualify_ready()
    return count


# --- The daily re-score ------------------------------------------------------------------------

DAILY_CHUNK = 5000
# Changes are looked for from this long before the previous run: a write that committed
# during that run (stamped before its start, invisible to its snapshot) is picked up by the next.
DAILY_OVERLAP = datetime.timedelta(hours=1)


def _rules_fingerprint(rules: RuleSet) -> str:
    """What the stored scores were computed with: the rules, their segments' definitions, the
    policy's scoring settings and the active learned model (a change means a full re-score)."""
    import hashlib
    import json

    provider = learned_scoring()
    terms = provider.scoring_terms() if provider is not None and rules.policy.learned_mode != "off" else None
    parts = {
        "fit": [
            [r.pk, r.points, r.field, r.operator, r.value, r.segment_id, r.segment.definition if r.segment_id else None]
            for r in rules.fit
        ],
        "engagement": [
            [r.pk, r.event_kind, r.points_per_event, r.cap, _half_life(r, rules.policy)] for r in rules.engagement
        ],
        "policy": [rules.policy.rejection_penalty, rules.policy.learned_mode, rules.policy.learned_weight],
        "learned": repr(terms.lead_logit) + repr(terms.events_logit) if terms is not None else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _changed_since(rules: RuleSet, since: datetime.datetime, now: datetime.datetime) -> set[int]:
    """Leads whose score may have changed since ``since`` other than by decay: a new event, an
    event dated after ``since`` (the scorer counts a future event at age 0, which is not
    separable), an edit, a stage move (or rejection), never scored, or a fit rule whose
    condition reads the clock (``within N days``) and holds for the lead now but not then or
    the other way round."""
    ids: set[int] = set()
    events = EngagementEvent.objects.filter(Q(created_at__gt=since) | Q(occurred_at__gt=since))
    ids.update(events.order_by().values_list("lead_id", flat=True).distinct())
    ids.update(Lead.objects.filter(Q(updated_at__gt=since) | Q(scored_at__isnull=True)).values_list("pk", flat=True))
    ids.update(LeadTransition.objects.filter(at__gt=since).order_by().values_list("lead_id", flat=True).distinct())
    for rule in rules.fit:
        then_q, now_q = fit_rule_q(rule, now=since), fit_rule_q(rule, now=now)
        if str(Lead.objects.filter(then_q).query) == str(Lead.objects.filter(now_q).query):
            continue  # the condition does not read the clock
        moved = Lead.objects.filter(now_q).exclude(then_q) | Lead.objects.filter(then_q).exclude(now_q)
        ids.update(moved.values_list("pk", flat=True))
    return ids


def _decay_sql(rules: RuleSet, now: datetime.datetime) -> tuple[str, list]:
    """One UPDATE moving every other engaged lead forward from its ``scored_at`` to ``now`` by
    decay alone: each rule's raw sum times ``0.5 ** (days / half-life)``, capped; engagement,
    score, breakdown points and the raw sums rewritten from those, nothing else read. Only
    rows whose points change are written (a rule still over its cap after decaying changes
    nothing)."""
    pg = connection.vendor == "postgresql"
    least, greatest = ("LEAST", "GREATEST") if pg else ("MIN", "MAX")
    if pg:
        days = "(EXTRACT(EPOCH FROM (%s::timestamptz - t.scored_at))::double precision / 86400.0)"

        def raw(key):
            return f"COALESCE((t.engagement_raw ->> '{key}')::double precision, 0.0)"

    else:
        days = "(julianday(%s) - julianday(t.scored_at))"

        def raw(key):
            return f"COALESCE(json_extract(t.engagement_raw, '$.\"{key}\"'), 0.0)"

    inner_cols, changed, points, raw_items = [], [], [], []
    for i, rule in enumerate(rules.engagement):
        half_life = float(_half_life(rule, rules.policy))
        inner_cols.append(f"{raw(int(rule.pk))} * EXP({days} * {-0.6931471805599453 / half_life!r}) AS r{i}")
        cap = None if rule.cap is None else float(rule.cap)
        points.append(f"s.r{i}" if cap is None else f"{least}(s.r{i}, {cap!r})")
        changed.append(f"(s.r{i} > 0.0)" if cap is None else f"(s.r{i} > 0.0 AND s.r{i} < {cap!r})")
        raw_items.append(f"'{int(rule.pk)}', s.r{i}")
    raw_items.append(f"'n', {raw('n')}")
    total = " + ".join(points) or "0.0"
    penalty = float(rules.policy.rejection_penalty or 0)
    engagement = f"{greatest}(({total}) - {penalty!r} * {raw('n')}, 0.0)" if penalty else f"({total})"
    learned = ""
    if rules.policy.learned_mode == LearnedScoreMode.BLEND and rules.policy.learned_weight:
        learned = f" + {float(rules.policy.learned_weight)!r} * COALESCE(t.learned_score, 0.0)"
    by_rule = " ".join(f"WHEN '{int(rule.pk)}' THEN {points[i]}" for i, rule in enumerate(rules.engagement))
    if pg:
        new_points = f"(CASE x.value ->> 'rule_id' {by_rule} END)"
        is_engagement = "x.value ->> 'kind' = 'engagement'"
        breakdown = (
            f"(SELECT COALESCE(jsonb_agg(CASE WHEN {is_engagement} THEN jsonb_set(x.value, '{{points}}', "
            f"to_jsonb({new_points})) ELSE x.value END ORDER BY x.ord) FILTER (WHERE NOT ({is_engagement} "
            f"AND {new_points} = 0.0)), '[]'::jsonb) FROM jsonb_array_elements(t.score_breakdown) WITH ORDINALITY "
            f"AS x(value, ord))"
        )
        raw_json = f"jsonb_build_object({', '.join(raw_items)})"
    else:
        new_points = f"(CASE CAST(json_extract(x.value, '$.rule_id') AS TEXT) {by_rule} END)"
        is_engagement = "json_extract(x.value, '$.kind') = 'engagement'"
        breakdown = (
            f"(SELECT json_group_array(json(CASE WHEN {is_engagement} THEN json_set(x.value, '$.points', "
            f"{new_points}) ELSE x.value END)) FROM json_each(t.score_breakdown) AS x WHERE NOT ({is_engagement} "
            f"AND {new_points} = 0.0))"
        )
        raw_json = f"json_object({', '.join(raw_items)})"
    table = connection.ops.quote_name(Lead._meta.db_table)
    engaged = " OR ".join(changed) or "FALSE"
    sql = (
        f"UPDATE {table} AS t SET engagement_score = {engagement}, score = t.fit_score + {engagement}{learned}, "
        f"score_breakdown = {breakdown}, engagement_raw = {raw_json}, scored_at = %s "
        f"FROM (SELECT t.id, {', '.join(inner_cols) or 'NULL AS r'} FROM {table} AS t "
        f"WHERE t.scored_at < %s AND t.engagement_raw <> %s) AS s "
        f"WHERE t.id = s.id AND ({engaged})"
    )
    params = [now] + [now] * len(rules.engagement) + [now, "{}" if pg else "{}"]
    return sql, params


def leads_rescore_daily(*, now: datetime.datetime | None = None, qualify: bool = True) -> dict:
    """The nightly re-score, at a cost proportional to what changed since the last run.

    Leads whose inputs changed (``_changed_since``) are re-scored by the scorer's statement;
    every other engaged lead is moved forward by decay alone (``_decay_sql``): exponential
    decay is separable, ``sum(p * 0.5 ** ((now - t) / h)) = 0.5 ** ((now - s) / h) * sum(p *
    0.5 ** ((s - t) / h))``, so its stored raw sums as of its last scoring ``s`` give the same
    score as re-reading its events (within floating point). Leads without engagement, or whose
    rules stay over their caps, are not written at all. The first run, and any run after the
    rules, the policy's scoring settings or the active learned model changed, re-scores every
    lead. Qualification is enqueued on commit as after a full re-score: decay only lowers
    scores, so only re-scored leads can newly cross the threshold, and each moves once
    (``lead_qualify`` re-checks under the row lock)."""
    now = now or timezone.now()
    with transaction.atomic():
        rules = rule_set_current()
        fingerprint = _rules_fingerprint(rules)
        marker = DailyRescore.objects.select_for_update().filter(pk=1).first()
        full = marker is None or marker.rules_fingerprint != fingerprint or marker.last_run_at >= now
        if full:
            rescored, decayed = _rescore(None, now=now, rules=rules), 0
        else:
            changed = sorted(_changed_since(rules, marker.last_run_at - DAILY_OVERLAP, now))
            rescored = sum(
                _rescore(changed[i : i + DAILY_CHUNK], now=now, rules=rules)
                for i in range(0, len(changed), DAILY_CHUNK)
            )
            sql, params = _decay_sql(rules, now)
            if connection.vendor == "sqlite":
                params = [
                    connection.ops.adapt_datetimefield_value(p) if isinstance(p, datetime.datetime) else p
                    for p in params
                ]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                decayed = cursor.rowcount
        DailyRescore.objects.update_or_create(
            pk=1,
            defaults={
                "last_run_at": now,
                "rules_fingerprint": fingerprint,
                "full": full,
                "rescored": rescored,
                "decayed": decayed,
            },
        )
    if qualify:
        enqueue.leads_qualify_ready()
    return {"full": full, "rescored": rescored, "decayed": decayed}


# --- Qualification -------------------------------------------------------------------------


def recycled_engaged_again_q() -> Q:
    """The recycled-lead rule, defined once: a RECYCLED lead counts again only with engagement
    after it came back to marketing."""
    return Q(stage=S.RECYCLED, last_engaged_at__isnull=False, stage_changed_at__isnull=False) & Q(
        last_engaged_at__gt=F("stage_changed_at")
    )


def newly_engaged_q() -> Q:
    """Leads a score that does not qualify them moves to ENGAGED: a NEW lead with any
    engagement, a recycled one with engagement since it came back."""
    return Q(stage=S.NEW, last_engaged_at__isnull=False) | recycled_engaged_again_q()


def qualification_q(policy: ScoringPolicy) -> Q:
    """Leads that qualify now: over threshold and fit minimum, contact allowed, in a marketing
    stage; a recycled lead only with engagement after it came back."""
    return Q(score__gte=policy.threshold, fit_score__gte=policy.fit_minimum, do_not_contact=False) & (
        Q(stage__in=(S.NEW, S.ENGAGED)) | recycled_engaged_again_q()
    )


def _send_qualified(lead_id: int) -> None:
    for receiver, response in lead_qualified.send_robust(sender=Lead, lead_id=lead_id):
        if isinstance(response, Exception):
            logger.error("lead_qualified receiver %r failed for lead %s: %r", receiver, lead_id, response)


def lead_qualify(*, lead_id: int, policy: ScoringPolicy | None = None, at=None) -> bool:
    """Move the lead to MQL if it qualifies now; True when it moved.

    Re-checks under the row lock taken by the lifecycle service, so concurrent scorers move a
    lead once and ``lead_qualified`` is sent once, after commit.
    """
    policy = policy or ScoringPolicy.current()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).filter(qualification_q(policy)).first()
        if lead is None:
            return False
        lead_transition(
            lead_id=lead_id,
            to_stage=S.MQL,
            reason=REASON_QUALIFIED,
            note=f"score {lead.score:g} >= {policy.threshold:g}, fit {lead.fit_score} >= {policy.fit_minimum}",
            expected_from=lead.stage,
            at=at,
        )
        transaction.on_commit(lambda: _send_qualified(lead_id))
    return True


def leads_qualify_ready(*, limit: int = 1000) -> tuple[int, bool]:
    """Qualify up to ``limit`` leads that qualify now (lowest id first); returns (moved,
    more_remaining). Each move is its own transaction through the lifecycle service."""
    policy = ScoringPolicy.current()
    ids = list(Lead.objects.filter(qualification_q(policy)).order_by("pk").values_list("pk", flat=True)[: limit + 1])
    moved = sum(1 for lead_id in ids[:limit] if lead_qualify(lead_id=lead_id, policy=policy))
    return moved, len(ids) > limit


def lead_score(*, lead_id: int, now: datetime.datetime | None = None) -> Lead:
    """Score one lead now (the same statement as the set-based re-score) and qualify it.

    A NEW lead with engagement that does not qualify moves to ENGAGED, as does a RECYCLED lead
    with engagement since it came back. A lead with sales (or disqualified, or a customer) is
    scored but never moved.
    """
    with transaction.atomic():
        rules = rule_set_current()
        if not _rescore([lead_id], now=now, rules=rules):
            raise Lead.DoesNotExist(f"Lead {lead_id} does not exist.")
        if not lead_qualify(lead_id=lead_id, policy=rules.policy):
            stage = Lead.objects.filter(pk=lead_id).filter(newly_engaged_q()).values_list("stage", flat=True).first()
            if stage is not None:
                lead_transition(lead_id=lead_id, to_stage=S.ENGAGED, reason=REASON_ENGAGED, expected_from=stage)
        return Lead.objects.get(pk=lead_id)


def leads_score_batch(*, lead_ids: list[int]) -> int:
    """Score the given leads with one UPDATE and qualify those that now qualify (imports)."""
    with transaction.atomic():
        rescore_lock(shared=True)
        rules = rule_set_current()
        scored = _rescore(list(lead_ids), rules=rules)
    ready = Lead.objects.filter(pk__in=lead_ids).filter(qualification_q(rules.policy)).order_by("pk")
    for lead_id in ready.values_list("pk", flat=True):
        lead_qualify(lead_id=lead_id, policy=rules.policy)
    return scored


def rescore_all_on_commit() -> None:
    """After a rule or policy change: re-score every lead once the change is committed."""
    enqueue.leads_rescore_all()
