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

Only what the change touches is recomputed: the fit columns when the fit rules change, the
engagement aggregate over the events when the engagement rules, the default half-life or the
rejection penalty change; otherwise the stored ``fit_score`` / ``engagement_score`` are used.
So a threshold change reads only the lead table, and the numbers are what re-scoring every
lead with the proposed rules at the same moment would store (the tests check exactly that).
The learned model is not re-run: its stored probability is weighed as the proposed policy
says.
"""

from __future__ import annotations

import datetime
import json
import math

from django.db import connection
from django.utils import timezone

from .models import EngagementEvent, Lead, LeadTransition, LearnedScoreMode, LifecycleStage, ScoringPolicy
from .rule_sets import rule_set_validate
from .scoring import RuleSet, _engagement_columns, _fit_columns, _half_life, rule_set_current

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
    base = [
        "id",
        "score",
        "fit_score",
        "engagement_score",
        "learned_score",
        "stage",
        "do_not_contact",
        "created_at",
    ]
    columns = {}
    if fit_changed:
        columns.update({k: v for k, v in _fit_columns(proposed, now).items() if k != "rejections"})
    if eng_changed and proposed.policy.rejection_penalty:
        columns["rejections"] = _fit_columns(RuleSet(policy=proposed.policy, fit=(), engagement=()), now)["rejections"]
    lead_sql, lead_params = Lead.objects.order_by().annotate(**columns).values(*base, *columns).query.sql_with_params()
    join, join_params = "", []
    new_fit = "s.fit_score"
    if fit_changed:
        new_fit = " + ".join(f"s.f{i}" for i in range(len(proposed.fit))) or "0"
    if eng_changed:
        if proposed.engagement:
            kinds = sorted({r.event_kind for r in proposed.engagement})
            events = EngagementEvent.objects.filter(kind__in=kinds).order_by().values("lead_id")
            eng_columns = _engagement_columns(proposed, now)
            eng_sql, eng_params = events.annotate(**eng_columns).values("lead_id", *eng_columns).query.sql_with_params()
            join, join_params = f" LEFT JOIN ({eng_sql}) AS e ON e.lead_id = s.id", list(eng_params)
            raw = " + ".join(f"COALESCE(e.e{i}, 0.0)" for i in range(len(proposed.engagement)))
        else:
            raw = "0.0"
        if proposed.policy.rejection_penalty:
            greatest = "GREATEST" if pg else "MAX"
            new_eng = f"{greatest}(({raw}) - %s * s.rejections, 0.0)"
            eng_expr_params = [float(proposed.policy.rejection_penalty)]
        else:
            new_eng, eng_expr_params = f"({raw})", []
    else:
        new_eng, eng_expr_params = "s.engagement_score", []
    learned, learned_params = _learned_term(proposed.policy)
    if fit_changed or eng_changed or learned_changed:
        new_score = f"({new_fit}) + {new_eng} + {learned}"
        score_params = [*eng_expr_params, *learned_params]
    else:
        new_score, score_params = "s.score", []
    start = week_start(now)
    if pg:
        week = "floor(EXTRACT(EPOCH FROM (created_at - %s::timestamptz)) / 604800.0)"
        start_param = start
    else:
        week = "floor((julianday(created_at) - julianday(%s)) / 7.0)"
        start_param = start.strftime("%Y-%m-%d %H:%M:%S")
    marketing = ", ".join("%s" for _ in MARKETING)
    sql = f"""
        WITH s AS (
            SELECT s.score AS cur, {new_score} AS new, s.fit_score AS cur_fit, {new_fit} AS new_fit,
                   s.stage, s.do_not_contact, s.created_at
            FROM ({lead_sql}) AS s{join}
        ), q AS (
            SELECT cur, new, created_at,
                   CASE WHEN NOT do_not_contact AND stage <> %s AND cur >= %s AND cur_fit >= %s
                        THEN 1 ELSE 0 END AS cq,
                   CASE WHEN NOT do_not_contact AND stage <> %s AND new >= %s AND new_fit >= %s
                        THEN 1 ELSE 0 END AS nq,
                   CASE WHEN stage IN ({marketing}) THEN 1 ELSE 0 END AS mk
            FROM s
        ), w AS (
            SELECT {week} AS wk, cq, nq FROM q WHERE created_at >= %s AND (cq = 1 OR nq = 1)
        )
        SELECT 'c', floor(cur), COUNT(*) FROM q GROUP BY floor(cur)
        UNION ALL SELECT 'p', floor(new), COUNT(*) FROM q GROUP BY floor(new)
        UNION ALL SELECT 'm', cq * 2 + nq, COUNT(*) FROM q WHERE mk = 1 GROUP BY cq * 2 + nq
        UNION ALL SELECT 'wc', wk, COUNT(*) FROM w WHERE cq = 1 GROUP BY wk
        UNION ALL SELECT 'wp', wk, COUNT(*) FROM w WHERE nq = 1 GROUP BY wk
    """
    params = [
        *score_params,
        *lead_params,
        *join_params,
        S.DISQUALIFIED.value,
        float(cur_policy.threshold),
        int(cur_policy.fit_minimum),
        S.DISQUALIFIED.value,
        float(proposed.policy.threshold),
        int(proposed.policy.fit_minimum),
        *[m.value for m in MARKETING],
        start_param,
        start_param,
    ]
    if not pg:
        params = [
            connection.ops.adapt_datetimefield_value(p) if isinstance(p, datetime.datetime) else p for p in params
        ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    hist = {"c": {}, "p": {}}
    groups = {0: 0, 1: 0, 2: 0, 3: 0}
    weekly_c, weekly_p = [0] * WEEKS, [0] * WEEKS
    for series, key, count in rows:
        if series in hist:
            hist[series][int(key)] = count
        elif series == "m":
            groups[int(key)] = count
        elif key is not None and 0 <= int(key) < WEEKS:
            (weekly_c if series == "wc" else weekly_p)[int(key)] = count
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
