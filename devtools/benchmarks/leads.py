"""Benchmarks of marketing: ``python manage.py bench scoring|segments|import``.

Each measures Baton and, in the same run, a baseline doing the same work by hand; run them on
PostgreSQL for figures that mean anything. Data: leads whose email starts with ``bench`` made
by ``devtools.demo.leads.generate_leads`` (COPY on PostgreSQL) plus engagement events inserted with one
``INSERT ... SELECT``; kept between runs when the count matches (``--fresh`` rebuilds).
The demo rule set replaces the scoring rules of the database it runs on: use a bench database.
"""

from __future__ import annotations

import contextlib
import csv
import io
import random
import statistics
import tempfile
import time

BENCH_PREFIX = "bench"
DEMO_ICP = {
    "all": [
        {"field": "industry", "op": "in", "value": ["software", "finance"]},
        {"field": "employees", "op": "gte", "value": 100},
    ]
}
# (name, field, op, value, points); the ICP rule is added separately.
DEMO_FIT_RULES = [
    ("Target industry", "industry", "in", ["software", "finance"], 15),
    ("Company size 50-5000", "employees", "between", [50, 5000], 10),
    ("Core markets", "country", "in", ["DE", "NL", "GB", "US"], 5),
    ("Management role", "attr.job", "eq", "management", 10),
    ("Bought before", "attr.previous_outcome", "eq", "success", 20),
    ("Head of something", "title", "contains", "head", 5),
    ("Opted in to email", "email_opt_in", "eq", True, 3),
]
# (name, kind, points per event, cap, half-life days)
DEMO_ENGAGEMENT_RULES = [
    ("Webinars", "webinar", 15.0, 30.0, 30.0),
    ("Email clicks", "email_click", 5.0, 20.0, 14.0),
    ("Page views", "page_view", 1.0, 10.0, 7.0),
    ("Form submissions", "form_submit", 20.0, 40.0, None),
]
EVENT_KINDS = ("webinar", "email_click", "page_view", "form_submit", "email_open")
DEMO_SEGMENTS = {
    "ICP": DEMO_ICP,
    "German software": {
        "all": [
            {"field": "country", "op": "eq", "value": "DE"},
            {"field": "industry", "op": "eq", "value": "software"},
        ]
    },
    "Hot MQL backlog": {
        "all": [{"field": "stage", "op": "eq", "value": "mql"}, {"field": "score", "op": "gte", "value": 50}]
    },
    "Big non-retail": {
        "all": [
            {"field": "employees", "op": "gte", "value": 1000},
            {"not": {"field": "industry", "op": "in", "value": ["retail", "education"]}},
        ]
    },
    "Recent webinar attendees": {
        "field": "engagement",
        "op": "at_least",
        "value": {"kind": "webinar", "count": 1, "days": 14},
    },
}
# The same segments as a person would write them in SQL (PostgreSQL).
RAW_SEGMENT_SQL = {
    "ICP": "SELECT count(*) FROM leads_lead WHERE industry IN ('software','finance') AND employees >= 100",
    "German software": "SELECT count(*) FROM leads_lead WHERE country = 'DE' AND industry = 'software'",
    "Hot MQL backlog": "SELECT count(*) FROM leads_lead WHERE stage = 'mql' AND score >= 50",
    "Big non-retail": (
        "SELECT count(*) FROM leads_lead WHERE employees >= 1000 AND industry NOT IN ('retail','education')"
    ),
    "Recent webinar attendees": "SELECT count(*) FROM leads_lead WHERE last_webinar_at >= now() - interval '14 days'",
}
# Engagement with counts above 1 (answered from the n-th latest event), timed and printed
# after the goal's figures.
COUNT_SEGMENTS = {
    "Repeat webinar attendees (2+ in 60 days)": {
        "field": "engagement",
        "op": "at_least",
        "value": {"kind": "webinar", "count": 2, "days": 60},
    },
    "Active last month (3+ events of any kind in 30 days)": {
        "field": "engagement",
        "op": "at_least",
        "value": {"kind": "any", "count": 3, "days": 30},
    },
}
RAW_SEGMENT_SQL.update(
    {
        "Repeat webinar attendees (2+ in 60 days)": (
            "SELECT count(*) FROM leads_lead l WHERE EXISTS (SELECT 1 FROM leads_latestengagement r "
            "WHERE r.lead_id = l.id AND r.kind = 'webinar' AND r.nth = 2 AND r.occurred_at >= now() - interval '60 days')"
        ),
        "Active last month (3+ events of any kind in 30 days)": (
            "SELECT count(*) FROM leads_lead l WHERE EXISTS (SELECT 1 FROM leads_latestengagement r "
            "WHERE r.lead_id = l.id AND r.kind = 'any' AND r.nth = 3 AND r.occurred_at >= now() - interval '30 days')"
        ),
    }
)
# The engagement segments written by hand over the events themselves, without the leads'
# latest-event columns and ranks (what Baton compiled before it had them).
RAW_EVENTS_SQL = {
    "Recent webinar attendees": (
        "SELECT count(*) FROM leads_lead l WHERE EXISTS (SELECT 1 FROM leads_engagementevent e "
        "WHERE e.lead_id = l.id AND e.kind = 'webinar' AND e.occurred_at >= now() - interval '14 days')"
    ),
    "Repeat webinar attendees (2+ in 60 days)": (
        "SELECT count(*) FROM leads_lead WHERE id IN (SELECT lead_id FROM leads_engagementevent "
        "WHERE kind = 'webinar' AND occurred_at >= now() - interval '60 days' GROUP BY lead_id HAVING count(*) >= 2)"
    ),
    "Active last month (3+ events of any kind in 30 days)": (
        "SELECT count(*) FROM leads_lead WHERE id IN (SELECT lead_id FROM leads_engagementevent "
        "WHERE occurred_at >= now() - interval '30 days' GROUP BY lead_id HAVING count(*) >= 3)"
    ),
}


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def _say(stdout, text: str) -> None:
    stdout.write(text)
    with contextlib.suppress(AttributeError):
        stdout.flush()


@contextlib.contextmanager
def _timer():
    box = {}
    start = time.perf_counter()
    yield box
    box["s"] = time.perf_counter() - start


def _vacuum() -> None:
    """Reclaim the dead rows of the previous full rewrite so every timed step starts alike."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE leads_lead")


# --- data ----------------------------------------------------------------------------------------


def ensure_leads(n: int, *, fresh: bool, stdout, events_share: float = 0.35) -> None:
    """``n`` bench leads (and their events) in the database, rebuilt unless the count matches."""
    from django.db import connection, transaction

    from devtools.demo.leads import generate_leads
    from leads.models import EngagementEvent, LatestEngagement, Lead

    bench = Lead.objects.filter(email__startswith=BENCH_PREFIX)
    have = bench.count()
    if have == n and not fresh:
        _say(stdout, f"Reusing {n} bench leads.")
        return
    _say(stdout, f"Generating {n} bench leads (had {have}) ...")
    with _timer() as t, transaction.atomic():
        EngagementEvent.objects.filter(lead__email__startswith=BENCH_PREFIX).delete()
        LatestEngagement.objects.filter(lead__email__startswith=BENCH_PREFIX).delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM leads_leadtransition WHERE lead_id IN (SELECT id FROM leads_lead WHERE email LIKE %s)",
                    [BENCH_PREFIX + "%"],
                )
                cursor.execute("DELETE FROM leads_lead WHERE email LIKE %s", [BENCH_PREFIX + "%"])
        else:
            bench.delete()
        generate_leads(n, seed=7, email_prefix=BENCH_PREFIX)
        _insert_events(events_share)
    _say(stdout, f"  generated in {t['s']:.1f} s; events: {EngagementEvent.objects.count()}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE leads_lead")
            cursor.execute("ANALYZE leads_engagementevent")


def _insert_events(share: float) -> None:
    """Events for about ``share`` of the bench leads: 1-6 each over the last 90 days, set-based,
    then the leads' latest-event columns recomputed as after any bulk write of events."""
    from django.db import connection
    from django.utils import timezone

    from leads.models import EngagementEvent, Lead
    from leads.services import lead_engagement_refresh

    now = timezone.now()
    if connection.vendor == "postgresql":
        kinds = "ARRAY[" + ",".join(f"'{k}'" for k in EVENT_KINDS) + "]"
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO leads_engagementevent (lead_id, kind, occurred_at, source_reference, created_at)
                SELECT l.id, ({kinds})[1 + (abs(hashtext(l.id::text || ':' || g)) %% {len(EVENT_KINDS)})],
                       %s - (abs(hashtext(g || ':' || l.id::text)) %% 7776000) * interval '1 second', '', %s
                FROM leads_lead l
                CROSS JOIN LATERAL generate_series(1, 1 + abs(hashtext('n' || l.id::text)) %% 6) AS g
                WHERE l.email LIKE %s AND abs(hashtext('p' || l.id::text)) %% 1000 < %s
                """,
                [now, now, BENCH_PREFIX + "%", int(share * 1000)],
            )
        lead_engagement_refresh()
        return
    import datetime

    rng = random.Random(7)
    batch = []
    for lead_id in Lead.objects.filter(email__startswith=BENCH_PREFIX).values_list("pk", flat=True).iterator():
        if rng.random() >= share:
            continue
        for _ in range(rng.randint(1, 6)):
            at = now - datetime.timedelta(seconds=rng.randrange(7_776_000))
            batch.append(EngagementEvent(lead_id=lead_id, kind=rng.choice(EVENT_KINDS), occurred_at=at))
    EngagementEvent.objects.bulk_create(batch, batch_size=5000)
    lead_engagement_refresh()


def install_demo_rules() -> None:
    """Replace the scoring rules with the demo rule set (bulk, so no re-score is triggered)."""
    from leads.models import RuleKind, ScoringPolicy, ScoringRule, Segment

    ScoringRule.objects.all().delete()
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": 50, "fit_minimum": 10})
    icp = Segment.objects.filter(is_icp=True).first()
    if icp is None:
        icp = Segment.objects.filter(name="Bench ICP").first() or Segment(name="Bench ICP", is_icp=True)
        icp.is_icp = True
    icp.definition = DEMO_ICP
    icp.save()
    rules = [
        ScoringRule(name=name, kind=RuleKind.FIT, field=field, operator=op, value=value, points=points, position=i)
        for i, (name, field, op, value, points) in enumerate(DEMO_FIT_RULES)
    ]
    rules.append(ScoringRule(name="In the ICP", kind=RuleKind.FIT, segment=icp, points=10, position=len(rules)))
    rules += [
        ScoringRule(
            name=name,
            kind=RuleKind.ENGAGEMENT,
            event_kind=kind,
            points_per_event=ppe,
            cap=cap,
            half_life_days=half_life,
            position=i,
        )
        for i, (name, kind, ppe, cap, half_life) in enumerate(DEMO_ENGAGEMENT_RULES)
    ]
    ScoringRule.objects.bulk_create(rules)


# --- bench scoring ------------------------------------------------------------------------------


def _sql_update(now, learned: dict | None = None) -> tuple[str, list]:
    """The demo rule set as one hand-written PostgreSQL UPDATE with the same results (fit,
    engagement, score and breakdown): fit as CASE sums, engagement pre-aggregated per lead.

    ``learned`` (``bench learned_apply``) adds a learned model blended into the score: SQL text
    for the per-lead part of its logit (``lead_sql``, over ``l``), for the event-count part
    (``events_sql``, over the events grouped by lead, or None), ``events_zero`` (the latter
    for a lead without events) and the blend ``weight``; the statement then also writes
    ``learned_score``."""
    from leads.models import RuleKind, ScoringPolicy, ScoringRule

    policy = ScoringPolicy.current()
    rules = list(ScoringRule.objects.filter(is_active=True).order_by("kind", "position", "id"))
    fit_sql = {
        "Target industry": "CASE WHEN l.industry IN ('software','finance') THEN 15 ELSE 0 END",
        "Company size 50-5000": "CASE WHEN l.employees BETWEEN 50 AND 5000 THEN 10 ELSE 0 END",
        "Core markets": "CASE WHEN l.country IN ('DE','NL','GB','US') THEN 5 ELSE 0 END",
        "Management role": "CASE WHEN l.custom_attributes->'job' = '\"management\"' THEN 10 ELSE 0 END",
        "Bought before": "CASE WHEN l.custom_attributes->'previous_outcome' = '\"success\"' THEN 20 ELSE 0 END",
        "Head of something": "CASE WHEN upper(l.title) LIKE '%%HEAD%%' THEN 5 ELSE 0 END",
        "Opted in to email": "CASE WHEN l.email_opt_in THEN 3 ELSE 0 END",
        "In the ICP": "CASE WHEN l.industry IN ('software','finance') AND l.employees >= 100 THEN 10 ELSE 0 END",
    }
    fit_rules = [r for r in rules if r.kind == RuleKind.FIT]
    eng_rules = [r for r in rules if r.kind == RuleKind.ENGAGEMENT]
    eng_cols = []
    for i, r in enumerate(eng_rules):
        hl = r.half_life_days or policy.default_half_life_days
        total = (
            f"COALESCE(SUM({r.points_per_event} * power(0.5, greatest(extract(epoch from (%(now)s::timestamptz - occurred_at)), 0)"
            f" / 86400.0 / {hl})) FILTER (WHERE kind = '{r.event_kind}'), 0)"
        )
        eng_cols.append(f"LEAST({total}, {r.cap}) AS e{i}" if r.cap is not None else f"{total} AS e{i}")
    fit_cols = [f"{fit_sql[r.name]} AS f{i}" for i, r in enumerate(fit_rules)]
    entries = [
        f"jsonb_build_object('rule_id', {r.pk}, 'rule', '{r.name}'::text, 'kind', 'fit', 'points', s.f{i})"
        for i, r in enumerate(fit_rules)
    ] + [
        f"jsonb_build_object('rule_id', {r.pk}, 'rule', '{r.name}'::text, 'kind', 'engagement', 'points', COALESCE(s.e{i}, 0.0))"
        for i, r in enumerate(eng_rules)
    ]
    fit = " + ".join(f"s.f{i}" for i in range(len(fit_rules)))
    eng = " + ".join(f"COALESCE(s.e{i}, 0.0)" for i in range(len(eng_rules)))
    s_cols = fit_cols + [f"ev.e{i}" for i in range(len(eng_rules))]
    blend, learned_set = "", ""
    if learned:
        s_cols.append(f"{learned['lead_sql']} AS lf")
        logit = "s.lf"
        if learned["events_sql"]:
            eng_cols.append(f"{learned['events_sql']} AS lw")
            s_cols.append("ev.lw")
            logit = f"s.lf + COALESCE(s.lw, {learned['events_zero']!r})"
        probability = f"(1.0 / (1.0 + exp(-least(greatest({logit}, -35.0), 35.0))))"
        blend = f" + {learned['weight']!r} * {probability}"
        learned_set = f"learned_score = {probability},"
        entries.append(
            f"jsonb_build_object('rule_id', NULL, 'rule', 'Learned model', 'kind', 'learned', 'points', "
            f"{learned['weight']!r} * {probability})"
        )
    sql = f"""
        UPDATE leads_lead t SET fit_score = {fit}, engagement_score = {eng}, score = {fit} + {eng}{blend},
               score_breakdown = jsonb_path_query_array(jsonb_build_array({", ".join(entries)}), '$[*] ? (@.points != 0)'),
               {learned_set}
               scored_at = %(now)s
        FROM (
            SELECT l.id, {", ".join(s_cols)}
            FROM leads_lead l
            LEFT JOIN (SELECT lead_id, {", ".join(eng_cols)} FROM leads_engagementevent GROUP BY lead_id) ev
                   ON ev.lead_id = l.id
        ) s
        WHERE t.id = s.id
    """
    return sql, {"now": now}


def _naive_rescore(lead_ids: list[int], now) -> None:
    """What scoring looks like without set-based SQL: per lead, one query per rule, the events,
    the arithmetic in Python and a save()."""
    from leads.models import Lead, RuleKind, ScoringPolicy, ScoringRule
    from leads.scoring import fit_rule_q

    policy = ScoringPolicy.current()
    rules = list(ScoringRule.objects.filter(is_active=True).select_related("segment"))
    fit_rules = [(r, fit_rule_q(r, now=now)) for r in rules if r.kind == RuleKind.FIT]
    eng_rules = [r for r in rules if r.kind == RuleKind.ENGAGEMENT]
    for lead in Lead.objects.filter(pk__in=lead_ids):
        breakdown, fit, engagement = [], 0, 0.0
        for rule, q in fit_rules:
            points = rule.points if Lead.objects.filter(pk=lead.pk).filter(q).exists() else 0
            fit += points
            breakdown.append({"rule_id": rule.pk, "rule": rule.name, "kind": "fit", "points": points})
        events = list(lead.events.values_list("kind", "occurred_at"))
        for rule in eng_rules:
            hl = rule.half_life_days or policy.default_half_life_days
            total = sum(
                rule.points_per_event * 0.5 ** (max((now - at).total_seconds(), 0) / 86400 / hl)
                for kind, at in events
                if kind == rule.event_kind
            )
            total = min(total, rule.cap) if rule.cap is not None else total
            engagement += total
            breakdown.append({"rule_id": rule.pk, "rule": rule.name, "kind": "engagement", "points": total})
        lead.fit_score, lead.engagement_score, lead.score = fit, engagement, fit + engagement
        lead.score_breakdown, lead.scored_at = breakdown, now
        lead.save(
            update_fields=["fit_score", "engagement_score", "score", "score_breakdown", "scored_at", "updated_at"]
        )


def scoring_arguments(parser) -> None:
    parser.add_argument("--leads", type=int, default=100_000, help="bench leads (default 100000)")
    parser.add_argument("--sample", type=int, default=10_000, help="leads for the per-row save() baseline")
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench data")


def scoring_run(options, stdout) -> dict:
    from django.db import connection, transaction
    from django.db.models import Sum
    from django.utils import timezone

    from leads.models import Lead
    from leads.scoring import leads_rescore_all

    n = options["leads"]
    ensure_leads(n, fresh=options["fresh"], stdout=stdout)
    install_demo_rules()
    total = Lead.objects.count()
    now = timezone.now()
    leads_rescore_all(now=now, qualify=False)  # warm-up: caches and the first rewrite of every row
    _vacuum()
    with _timer() as baton:
        scored = leads_rescore_all(now=now, qualify=False)
    baton_sum = Lead.objects.aggregate(s=Sum("score"))["s"] or 0
    _say(stdout, f"Baton re-score of {scored} leads: {baton['s']:.2f} s ({scored / baton['s']:.0f} leads/s)")
    sql_s = None
    if connection.vendor == "postgresql":
        sql, params = _sql_update(now)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)  # warm-up
            _vacuum()
            with _timer() as raw:
                cursor.execute(sql, params)
        sql_s = raw["s"]
        sql_sum = Lead.objects.aggregate(s=Sum("score"))["s"] or 0
        same = abs(sql_sum - baton_sum) <= 1e-6 * max(1.0, abs(baton_sum))
        _say(stdout, f"Hand-written SQL UPDATE: {sql_s:.2f} s; same total score as Baton: {same}")
    else:
        _say(stdout, "Hand-written SQL UPDATE: skipped (PostgreSQL only)")
    sample = min(options["sample"], total)
    ids = list(Lead.objects.order_by("?").values_list("pk", flat=True)[:sample]) if sample else []
    with _timer() as naive, transaction.atomic():
        _naive_rescore(ids, now)
        transaction.set_rollback(True)
    per_row = naive["s"] / max(sample, 1) * total
    _say(stdout, f"Per-row save() on {sample} leads: {naive['s']:.2f} s -> {per_row:.1f} s extrapolated to {total}")
    ratio = round(baton["s"] / sql_s, 2) if sql_s else None
    _say(stdout, f"Baton / hand-written SQL: {ratio} (goal <= 1.5)")
    return {
        "bench": "scoring",
        "leads": total,
        "baton_s": round(baton["s"], 3),
        "sql_update_s": round(sql_s, 3) if sql_s is not None else None,
        "ratio_vs_sql": ratio,
        "save_per_row_extrapolated_s": round(per_row, 1),
        "save_sample_leads": sample,
        "database": connection.vendor,
    }


# --- bench segments -----------------------------------------------------------------------------


def segments_arguments(parser) -> None:
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="counts per segment (default 20)")
    parser.add_argument("--fresh", action="store_true")


def _time_segments(segments: dict, repeat: int, stdout) -> tuple[list[float], list[float], list[float]]:
    """Per segment, ``repeat`` times: Baton's preview count, the raw SQL over the same tables
    and the raw SQL counting the events; every count checked equal. Returns the three lists
    of milliseconds (raw lists empty off PostgreSQL)."""
    from django.db import connection

    from leads.segment_services import segment_preview

    baton_ms: list[float] = []
    raw_ms: list[float] = []
    events_ms: list[float] = []

    def raw(name: str, sql: str, expected: int, out: list[float]) -> None:
        with _timer() as r, connection.cursor() as cursor:
            cursor.execute(sql)
            raw_count = cursor.fetchone()[0]
        out.append(r["s"] * 1000)
        if raw_count != expected:
            raise AssertionError(f"{name}: Baton counted {expected}, raw SQL {raw_count} ({sql})")

    for name, definition in segments.items():
        per, raw_per, events_per = [], [], []
        for _ in range(repeat):
            with _timer() as t:
                count = segment_preview(definition=definition, sample=0)["count"]
            per.append(t["s"] * 1000)
            if connection.vendor == "postgresql":
                raw(name, RAW_SEGMENT_SQL[name], count, raw_per)
                raw(name, RAW_EVENTS_SQL.get(name, RAW_SEGMENT_SQL[name]), count, events_per)
        baton_ms += per
        raw_ms += raw_per
        events_ms += events_per
        raw_text = f", raw SQL p50 {statistics.median(raw_per):.1f} ms" if raw_per else ""
        if name in RAW_EVENTS_SQL and events_per:
            raw_text += f", raw SQL over the events p50 {statistics.median(events_per):.1f} ms"
        _say(stdout, f"{name}: {count} members; Baton p50 {statistics.median(per):.1f} ms{raw_text}")
    return baton_ms, raw_ms, events_ms


def _ms(values: list[float], p: float) -> float | None:
    return round(_pct(values, p), 2) if values else None


def segments_run(options, stdout) -> dict:
    from django.db import connection

    from leads.models import Lead

    ensure_leads(options["leads"], fresh=options["fresh"], stdout=stdout)
    _vacuum()  # as autovacuum leaves it after a re-score: visibility map set, statistics fresh
    total = Lead.objects.count()
    baton_ms, raw_ms, events_ms = _time_segments(DEMO_SEGMENTS, options["repeat"], stdout)
    p95, raw_p95, events_p95 = _ms(baton_ms, 95), _ms(raw_ms, 95), _ms(events_ms, 95)
    ratio = round(p95 / raw_p95, 2) if raw_p95 else None
    _say(
        stdout,
        f"Demo segments: Baton p50 {_ms(baton_ms, 50)} ms, p95 {p95} ms; raw SQL p95 {raw_p95} ms; "
        f"raw SQL with engagement counted from the events p95 {events_p95} ms",
    )
    _say(stdout, "Goal: p95 <= 50 ms and <= 3x raw SQL")
    _say(stdout, "Not in the goal: engagement with counts above 1 (the n-th latest event) ...")
    extra_ms, extra_raw_ms, extra_events_ms = _time_segments(COUNT_SEGMENTS, options["repeat"], stdout)
    return {
        "bench": "segments",
        "leads": total,
        "p50_ms": _ms(baton_ms, 50),
        "p95_ms": p95,
        "raw_sql_p95_ms": raw_p95,
        "ratio_vs_sql": ratio,
        "raw_events_sql_p95_ms": events_p95,
        "ratio_vs_events_sql": round(p95 / events_p95, 2) if events_p95 else None,
        "segments": len(DEMO_SEGMENTS),
        "count_segments_p95_ms": _ms(extra_ms, 95),
        "count_segments_raw_sql_p95_ms": _ms(extra_raw_ms, 95),
        "count_segments_raw_events_sql_p95_ms": _ms(extra_events_ms, 95),
        "database": connection.vendor,
    }


# --- bench import -------------------------------------------------------------------------------

IMPORT_PREFIX = "benchimp"


def import_arguments(parser) -> None:
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--bad-share", type=float, default=0.01, help="share of rows with an invalid email")


def _import_csv(rows: int, bad_share: float) -> tuple[str, list[dict]]:
    """The CSV (as text) and the valid rows it holds: ``bad_share`` invalid emails and as many
    duplicates of earlier rows."""
    from devtools.demo.leads import csv_text

    text = csv_text(rows, seed=11, email_prefix=IMPORT_PREFIX)
    reader = list(csv.DictReader(io.StringIO(text)))
    rng = random.Random(5)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(reader[0].keys()) if reader else ["email"])
    writer.writeheader()
    valid, seen = [], set()
    for i, row in enumerate(reader):
        roll = rng.random()
        if roll < bad_share:
            row = {**row, "email": f"not-an-email-{i}"}
        elif roll < 2 * bad_share and valid:
            row = {**valid[rng.randrange(len(valid))]}
        writer.writerow(row)
        if "@" in row["email"] and row["email"].lower() not in seen:
            seen.add(row["email"].lower())
            valid.append(row)
    return out.getvalue(), valid


def import_run(options, stdout) -> dict:
    from django.db import connection, transaction

    from leads.imports import leads_import
    from leads.models import Lead

    def cleanup():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM leads_lead WHERE email LIKE %s", [IMPORT_PREFIX + "%"])

    cleanup()
    text, valid = _import_csv(options["rows"], options["bad_share"])
    data = text.encode()
    _say(stdout, f"CSV: {options['rows']} rows, {len(data) / 1e6:.1f} MB, {len(valid)} valid and unique")
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        with _timer() as baton:
            report = leads_import(stream=handle, dry_run=False)
    created = Lead.objects.filter(email__startswith=IMPORT_PREFIX).count()
    _say(
        stdout,
        f"Baton import: {baton['s']:.2f} s; created {report.created}, rejected {report.rejected} "
        f"({report.error_count} errors); in the database: {created}",
    )
    # Not part of the import: the worker scores each imported batch right after it commits.
    from leads.scoring import _rescore

    ids = list(Lead.objects.filter(email__startswith=IMPORT_PREFIX).order_by("pk").values_list("pk", flat=True))
    with _timer() as scoring:
        for start in range(0, len(ids), 1000):
            _rescore(ids[start : start + 1000])
    _say(stdout, f"(then, on the worker: scoring the imported leads, 1000 per UPDATE: {scoring['s']:.2f} s)")
    cleanup()
    copy_s = None
    if connection.vendor == "postgresql":
        from django.utils import timezone

        columns = list(valid[0].keys())
        now = timezone.now()
        with transaction.atomic():
            with _timer() as copy, connection.cursor() as cursor:
                extra = {
                    "timezone": "UTC",
                    "custom_attributes": "{}",
                    "email_opt_in": False,
                    "do_not_call": False,
                    "do_not_contact": False,
                    "do_not_profile": False,
                    "stage": "new",
                    "fit_score": 0,
                    "engagement_score": 0.0,
                    "score": 0.0,
                    "score_breakdown": "[]",
                    "created_at": now,
                    "updated_at": now,
                }
                cols = ", ".join([*columns, *extra])
                with cursor.copy(f"COPY leads_lead ({cols}) FROM STDIN") as cp:
                    for row in valid:
                        values = [row[c] or (None if c == "employees" else "") for c in columns]
                        cp.write_row([*values, *extra.values()])
            copy_s = copy["s"]
            transaction.set_rollback(True)
        _say(stdout, f"PostgreSQL COPY of the {len(valid)} valid rows into leads_lead: {copy_s:.2f} s")
    ratio = round(baton["s"] / copy_s, 2) if copy_s else None
    _say(stdout, f"Baton / COPY: {ratio} (goal <= 5)")
    return {
        "bench": "import",
        "rows": options["rows"],
        "baton_s": round(baton["s"], 3),
        "copy_s": round(copy_s, 3) if copy_s is not None else None,
        "ratio_vs_copy": ratio,
        "rejected_rows": report.rejected,
        "created_rows": report.created,
        "score_imported_s": round(scoring["s"], 3),
        "database": connection.vendor,
    }


BENCHMARKS = {
    "scoring": (scoring_arguments, scoring_run),
    "segments": (segments_arguments, segments_run),
    "import": (import_arguments, import_run),
}
