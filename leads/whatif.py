"""What a rule set change would do, before it is saved: one SQL statement over every lead.

``scoring_whatif(rules=..., policy=...)`` takes a proposed rule set (the data of
``leads.rule_sets``, validated the same way) and answers, from the leads as they are scored now:

- ``bins``: the score distribution today and with the change, as histogram bins
  ``{"lo", "hi", "current", "proposed"}`` over every lead;
- ``qualifying_current`` / ``qualifying_proposed``: leads in a marketing stage (new, engaged,
  MQL, recycled) that meet the bar (score >= threshold, fit >= minimum, contact allowed) now
  and with the change; ``newly_crossing`` meet it only with the change, ``falling_back`` only
  now;
- ``weekly``: for each of the last 12 calendar weeks (Monday, UTC) the leads created that
  week that meet the bar now and with the change (not disqualified, contact allowed), beside
  the MQLs that week actually produced (transitions to MQL).

Only what the change touches is read. The proposed score is the stored score plus what the
changed rules add or take away: the fields of the leads a changed fit rule matches (before or
after; through the firmographic indexes where they apply) and the events of the changed
engagement rules' kinds; every other lead comes from the covering index
``lead_whatif_cover_idx`` alone. So the numbers are what re-scoring every lead with the
proposed rules at the same moment would store, provided the stored scores are current (the
tests check exactly that). When a rejection penalty is involved in an engagement change the
penalty's clamp at 0 rules that out, and engagement is recomputed from the events instead.
The learned model is not re-run: its stored probability is weighed as the proposed policy says.
"""

from __future__ import annotations

import datetime
import json
import math
import operator
from collections import Counter
from functools import reduce

from django.db import connection, transaction
from django.db.models import Case, ExpressionWrapper, IntegerField, Value, When
from django.utils import timezone

from .models import EngagementEvent, Lead, LeadTransition, LearnedScoreMode, LifecycleStage, ScoringPolicy
from .rule_sets import rule_set_validate
from .scoring import RuleSet, _engagement_columns, _fit_columns, _half_life, fit_rule_q, rule_set_current

S = LifecycleStage
WEEKS = 12
MARKETING = (S.NEW, S.ENGAGED, S.MQL, S.RECYCLED)


def _fit_key(rule) -> tuple:
    return (rule.field, rule.operator, json.dumps(rule.value, sort_keys=True), rule.segment_id, rule.points)


def _engagement_key(rule, policy) -> tuple:
    return (rule.event_kind, float(rule.points_per_event), rule.cap, float(_half_life(rule, policy)))


def _learned_term(policy: ScoringPolicy) -> tuple[str, list]:
    if policy.learned_mode == LearnedScoreMode.BLEND and policy.learned_weight:
        return "%s * COALESCE(s.learned_score, 0.0)", [float(policy.learned_weight)]
    return "0.0", []


def _nice_width(span: float, bins: int) -> float:
    raw = max(span / bins, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):  # whole widths: the SQL counts per whole point
        if step * magnitude >= raw:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover


def week_start(now: datetime.datetime) -> datetime.datetime:
    """Monday 00:00 UTC of the first of the last ``WEEKS`` calendar weeks (this one included)."""
    today = now.astimezone(datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - datetime.timedelta(days=today.weekday() + 7 * (WEEKS - 1))


def scoring_whatif(*, rules, policy, now: datetime.datetime | None = None, bins: int = 20) -> dict:
    """The effect of the proposed rule set (see the module docstring); raises ValidationError
    naming the field for bad input. Reads only: the current rules and policy, the segments and
    rules the proposal names, the one statement, and the actual MQLs per week."""
    now = now or timezone.now()
    proposed: RuleSet = rule_set_validate(rules=rules, policy=policy)
    cur_rules = rule_set_current()
    cur_policy = cur_rules.policy
    fit_changed = sorted(map(_fit_key, cur_rules.fit)) != sorted(map(_fit_key, proposed.fit))
    eng_changed = sorted(_engagement_key(r, cur_policy) for r in cur_rules.engagement) != sorted(
        _engagement_key(r, proposed.policy) for r in proposed.engagement
    ) or float(cur_policy.rejection_penalty or 0) != float(proposed.policy.rejection_penalty or 0)
    learned_changed = _learned_term(cur_policy) != _learned_term(proposed.policy)
    pg = connection.vendor == "postgresql"
    penalties = float(cur_policy.rejection_penalty or 0) or float(proposed.policy.rejection_penalty or 0)
    if eng_changed and penalties:
        # The penalty clamps engagement at 0, so a change cannot be added to the stored score.
        parts = _full_parts(proposed, now, fit_changed=fit_changed, eng_changed=eng_changed, pg=pg)
    else:
        parts = _delta_parts(cur_rules, proposed, now)
    lead_sql, lead_params, join, join_params, new_fit, new_score, score_params = parts
    if learned_changed:
        new_learned, new_learned_params = _learned_term(proposed.policy)
        cur_learned, cur_learned_params = _learned_term(cur_policy)
        new_score = f"{new_score} + ({new_learned}) - ({cur_learned})"
        score_params = [*score_params, *new_learned_params, *cur_learned_params]
    start = week_start(now)
    if pg:
        week = "floor(EXTRACT(EPOCH FROM (created_at - %s::timestamptz)) / 604800.0)"
        start_param = start
    else:
        week = "floor((julianday(created_at) - julianday(%s)) / 7.0)"
        start_param = start.strftime("%Y-%m-%d %H:%M:%S")
    marketing = ", ".join("%s" for _ in MARKETING)
    # One pass over the leads grouped by every key at once (a few thousand groups; measured
    # faster than GROUPING SETS, and it can run in parallel); Python adds the groups up.
    per_lead = f"""
        SELECT floor(cur) AS c, floor(new) AS p, cq, nq, mk,
               CASE WHEN created_at >= %s AND (cq = 1 OR nq = 1) THEN {week} END AS wk
        FROM (
            SELECT cur, new, created_at,
                   CASE WHEN NOT do_not_contact AND stage <> %s AND cur >= %s AND cur_fit >= %s
                        THEN 1 ELSE 0 END AS cq,
                   CASE WHEN NOT do_not_contact AND stage <> %s AND new >= %s AND new_fit >= %s
                        THEN 1 ELSE 0 END AS nq,
                   CASE WHEN stage IN ({marketing}) THEN 1 ELSE 0 END AS mk
            FROM (
                SELECT s.score AS cur, {new_score} AS new, s.fit_score AS cur_fit, {new_fit} AS new_fit,
                       s.stage, s.do_not_contact, s.created_at
                FROM ({lead_sql}) AS s{join}
            ) AS s
        ) AS q
    """
    sql = f"SELECT c, p, cq, nq, mk, wk, COUNT(*) FROM ({per_lead}) AS x GROUP BY c, p, cq, nq, mk, wk"
    params = [
        start_param,
        start_param,
        S.DISQUALIFIED.value,
        float(cur_policy.threshold),
        int(cur_policy.fit_minimum),
        S.DISQUALIFIED.value,
        float(proposed.policy.threshold),
        int(proposed.policy.fit_minimum),
        *[m.value for m in MARKETING],
        *score_params,
        *lead_params,
        *join_params,
    ]
    if not pg:
        params = [
            connection.ops.adapt_datetimefield_value(p) if isinstance(p, datetime.datetime) else p for p in params
        ]
    with transaction.atomic(), connection.cursor() as cursor:
        if pg:
            # The four groupings hash in memory instead of sorting a million rows on disk; no
            # JIT: compiling this one-off statement's ~80 expressions cost more than it saved
            # (EXPLAIN ANALYZE at 1M: 9.3 s of JIT in a 17.6 s run on a loaded machine).
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    hist: dict = {"c": {}, "p": {}}
    groups = {0: 0, 1: 0, 2: 0, 3: 0}
    weekly_c, weekly_p = [0] * WEEKS, [0] * WEEKS
    for c, p, cq, nq, mk, wk, count in rows:
        hist["c"][int(c)] = hist["c"].get(int(c), 0) + count
        hist["p"][int(p)] = hist["p"].get(int(p), 0) + count
        if mk == 1:
            groups[cq * 2 + nq] += count
        if wk is not None and 0 <= int(wk) < WEEKS:
            weekly_c[int(wk)] += count if cq == 1 else 0
            weekly_p[int(wk)] += count if nq == 1 else 0
    actual = [0] * WEEKS
    transitions = LeadTransition.objects.filter(to_stage=S.MQL, at__gte=start).order_by().values_list("at", flat=True)
    for at in transitions.iterator():
        index = (at - start).days // 7
        if 0 <= index < WEEKS:
            actual[index] += 1
    return {
        "leads": sum(hist["c"].values()),
        "changed": {"fit": fit_changed, "engagement": eng_changed, "learned": learned_changed},
        "threshold": {"current": cur_policy.threshold, "proposed": proposed.policy.threshold},
        "fit_minimum": {"current": cur_policy.fit_minimum, "proposed": proposed.policy.fit_minimum},
        "bins": _bins(hist["c"], hist["p"], bins),
        "qualifying_current": groups[2] + groups[3],
        "qualifying_proposed": groups[1] + groups[3],
        "newly_crossing": groups[1],
        "falling_back": groups[2],
        "weekly": [
            {
                "week": (start + datetime.timedelta(days=7 * i)).date().isoformat(),
                "current": weekly_c[i],
                "proposed": weekly_p[i],
                "actual_mqls": actual[i],
            }
            for i in range(WEEKS)
        ],
    }


BASE_COLUMNS = (
    "id",
    "score",
    "fit_score",
    "engagement_score",
    "learned_score",
    "stage",
    "do_not_contact",
    "created_at",
)


def _only_in(first, second, key) -> list:
    """The rules of ``first`` with no rule of the same effect in ``second`` (multiset minus)."""
    left = Counter(key(r) for r in second)
    out = []
    for rule in first:
        k = key(rule)
        if left[k]:
            left[k] -= 1
        else:
            out.append(rule)
    return out


def _delta_parts(cur_rules: RuleSet, proposed: RuleSet, now):
    """The proposed score as the stored score plus what the changed rules add or take away.

    Only the leads a changed fit rule matches (before or after) are read for their fields, and
    only the events of the changed engagement rules' kinds; every other lead is read from the
    covering index ``lead_whatif_cover_idx`` alone. Exact when the stored scores are current
    (re-scored since the last rule change, at the same moment for decay)."""
    old_fit = _only_in(cur_rules.fit, proposed.fit, _fit_key)
    new_fit_rules = _only_in(proposed.fit, cur_rules.fit, _fit_key)
    old_eng = _only_in(cur_rules.engagement, proposed.engagement, lambda r: _engagement_key(r, cur_rules.policy))
    new_eng = _only_in(proposed.engagement, cur_rules.engagement, lambda r: _engagement_key(r, proposed.policy))
    lead_sql, lead_params = Lead.objects.order_by().values(*BASE_COLUMNS).query.sql_with_params()
    join, join_params = "", []
    fit_delta = eng_delta = "0"
    if old_fit or new_fit_rules:
        any_q = reduce(operator.or_, [fit_rule_q(r, now=now) for r in (*old_fit, *new_fit_rules)])

        def points(rule):
            return Case(When(fit_rule_q(rule, now=now), then=Value(rule.points)), default=Value(0))

        terms = [points(r) for r in new_fit_rules] + [Value(0) - points(r) for r in old_fit]
        delta = reduce(operator.add, terms)
        affected = Lead.objects.filter(any_q).order_by().annotate(fd=ExpressionWrapper(delta, IntegerField()))
        f_sql, f_params = affected.values("id", "fd").query.sql_with_params()
        join += f" LEFT JOIN ({f_sql}) AS f ON f.id = s.id"
        join_params += list(f_params)
        fit_delta = "COALESCE(f.fd, 0)"
    if old_eng or new_eng:
        kinds = sorted({r.event_kind for r in (*old_eng, *new_eng)})
        columns = {}
        for prefix, rules, policy in (("n", new_eng, proposed.policy), ("o", old_eng, cur_rules.policy)):
            built = _engagement_columns(RuleSet(policy=policy, fit=(), engagement=tuple(rules)), now)
            columns.update({f"{prefix}{name[1:]}": expr for name, expr in built.items()})
        events = EngagementEvent.objects.filter(kind__in=kinds).order_by().values("lead_id").annotate(**columns)
        e_sql, e_params = events.values("lead_id", *columns).query.sql_with_params()
        join += f" LEFT JOIN ({e_sql}) AS e ON e.lead_id = s.id"
        join_params += list(e_params)
        added = " + ".join(f"COALESCE(e.n{i}, 0.0)" for i in range(len(new_eng))) or "0.0"
        taken = " + ".join(f"COALESCE(e.o{i}, 0.0)" for i in range(len(old_eng))) or "0.0"
        eng_delta = f"(({added}) - ({taken}))"
    new_fit = "s.fit_score" if fit_delta == "0" else f"(s.fit_score + {fit_delta})"
    new_score = "s.score" if fit_delta == eng_delta == "0" else f"(s.score + {fit_delta} + {eng_delta})"
    return lead_sql, lead_params, join, join_params, new_fit, new_score, []


def _full_parts(proposed: RuleSet, now, *, fit_changed: bool, eng_changed: bool, pg: bool):
    """The proposed score recomputed from the lead fields and all events of the rules' kinds
    (used when a rejection penalty is involved in an engagement change)."""
    columns = {}
    if fit_changed:
        columns.update({k: v for k, v in _fit_columns(proposed, now).items() if k != "rejections"})
    if proposed.policy.rejection_penalty:
        columns["rejections"] = _fit_columns(RuleSet(policy=proposed.policy, fit=(), engagement=()), now)["rejections"]
    lead_sql, lead_params = (
        Lead.objects.order_by().annotate(**columns).values(*BASE_COLUMNS, *columns).query.sql_with_params()
    )
    join, join_params = "", []
    new_fit = "s.fit_score"
    if fit_changed:
        new_fit = " + ".join(f"s.f{i}" for i in range(len(proposed.fit))) or "0"
    raw = "0.0"
    if proposed.engagement:
        kinds = sorted({r.event_kind for r in proposed.engagement})
        events = EngagementEvent.objects.filter(kind__in=kinds).order_by().values("lead_id")
        eng_columns = _engagement_columns(proposed, now)
        eng_sql, eng_params = events.annotate(**eng_columns).values("lead_id", *eng_columns).query.sql_with_params()
        join, join_params = f" LEFT JOIN ({eng_sql}) AS e ON e.lead_id = s.id", list(eng_params)
        raw = " + ".join(f"COALESCE(e.e{i}, 0.0)" for i in range(len(proposed.engagement)))
    params: list = []
    if proposed.policy.rejection_penalty:
        new_eng = f"{'GREATEST' if pg else 'MAX'}(({raw}) - %s * s.rejections, 0.0)"
        params = [float(proposed.policy.rejection_penalty)]
    else:
        new_eng = f"({raw})"
    # The caller adds (proposed - current) learned term when it changes, so start from the current.
    cur_learned, cur_learned_params = _learned_term(rule_set_current().policy)
    new_score = f"(({new_fit}) + {new_eng} + {cur_learned})"
    return lead_sql, lead_params, join, join_params, new_fit, new_score, [*params, *cur_learned_params]


def _bins(current: dict[int, int], proposed: dict[int, int], bins: int) -> list[dict]:
    """Re-bin the per-point counts into about ``bins`` bins of a round width covering both."""
    keys = [*current, *proposed]
    if not keys:
        return []
    lo, hi = min(keys), max(keys) + 1
    width = _nice_width(hi - min(lo, 0), bins)
    start = math.floor(min(lo, 0) / width) * width
    count = max(1, math.ceil((hi - start) / width))
    out = [{"lo": start + i * width, "hi": start + (i + 1) * width, "current": 0, "proposed": 0} for i in range(count)]
    for series, values in (("current", current), ("proposed", proposed)):
        for point, n in values.items():
            out[min(count - 1, int((point - start) // width))][series] += n
    return out
