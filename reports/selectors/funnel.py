"""Funnel report: of the leads created each week (the cohort), how many reached each lifecycle
stage, the conversion from stage to stage, and how long leads stay in each stage.

A lead "reached" a stage when it reached it or any later one (a lead that went NEW -> MQL
directly also counts as engaged), so the funnel never widens. Time in stage is measured from
the transition into a stage to the next transition out of it, for every stay in the cohort.

The stage counts come from ``FunnelRollup`` (leads per day created, source and furthest stage,
rebuilt by beat with the same ``reached_counts``) when it is recent; the page says as of when.
With a segment or campaign filter, or without a recent rollup, they are counted live.
"""

from __future__ import annotations

import datetime
import math

from django.conf import settings
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import Mod, TruncWeek
from django.utils import timezone

from leads.api import Lead, LeadTransition, LifecycleStage
from reports.models import FunnelRollup, ReportRollupRun

from .base import (
    Column,
    DateRangeForm,
    ReportResult,
    Table,
    admin_changelist,
    as_week,
    campaign_field,
    iso,
    lead_filter_params,
    lead_filter_q,
    percentiles_sql,
    ratio,
    seconds_between_sql,
    segment_field,
    source_field,
    week_bounds,
    week_label,
    weeks_in_range,
)
from .charts import bar_chart

SLUG = "funnel"
TITLE = "Funnel"
DESCRIPTION = (
    "Lifecycle stage conversion per weekly cohort of new leads, and the median time leads spend in each stage."
)
EMPTY = (
    "No leads were created in this period. Each week's new leads will appear as a cohort, showing how many "
    "became engaged, MQL, handed off, accepted, opportunity and customer, and how long each stage took."
)
S = LifecycleStage
FUNNEL = (S.NEW, S.ENGAGED, S.MQL, S.HANDED_OFF, S.SAL, S.OPPORTUNITY, S.CUSTOMER)
RANK = {stage: i for i, stage in enumerate(FUNNEL)}
SENT_BACK = (S.RECYCLED, S.DISQUALIFIED)
ROLLUP_NAME = "funnel"
DAY = 86400.0
TIME_IN_STAGE_SAMPLE = 50_000
SHORT_LABELS = {
    S.NEW: "New",
    S.ENGAGED: "Engaged",
    S.MQL: "MQL",
    S.HANDED_OFF: "Handed off",
    S.SAL: "SAL",
    S.OPPORTUNITY: "Opportunity",
    S.CUSTOMER: "Customer",
}


class FilterForm(DateRangeForm):
    segment = segment_field()
    campaign = campaign_field()
    source = source_field()


def _cohort(data):
    qs = Lead.objects.filter(Q(created_at__gte=data["start"], created_at__lt=data["end"]) & lead_filter_q(data))
    return qs.distinct() if data.get("campaign") else qs


def _rank_case(field: str):
    return Case(*[When(**{field: stage}, then=Value(i)) for i, stage in enumerate(FUNNEL)], output_field=IntegerField())


def _sent_back_furthest_sql(since=None) -> tuple[str, list]:
    """SQL selecting ``lead_id, furthest`` for every lead sent back (recycled or disqualified)
    [since ``since``]: the furthest funnel stage among its transitions [since then]. The sent-back
    leads are few and found through the (to_stage, at) index; their transitions are read in one
    pass (a hash semi-join), not probed one lead at a time."""
    moves = LeadTransition.objects.all()
    sent_back = LeadTransition.objects.filter(to_stage__in=SENT_BACK)
    if since is not None:
        moves, sent_back = moves.filter(at__gte=since), sent_back.filter(at__gte=since)
    qs = (
        moves.filter(lead_id__in=sent_back.values("lead_id"))
        .order_by()
        .values("lead_id")
        .annotate(furthest=Max(_rank_case("to_stage")))
    )
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


def reached_counts(leads, keys: dict, since=None) -> dict[tuple, dict[int, int]]:
    """{key: {rank: leads}}: the leads of ``leads`` counted per ``keys`` (annotations, the first
    a date or week) by the furthest funnel stage they reached.

    Stages only move forward except through RECYCLED / DISQUALIFIED, so for a lead never sent
    back its current stage is the furthest: count the leads by (key, current stage) in one pass,
    then correct only the leads that were sent back with their furthest stage."""
    names = list(keys)
    counts: dict[tuple, dict[int, int]] = {}

    def key_of(values) -> tuple:
        return (as_week(values[0]), *values[1:])

    for row in leads.annotate(**keys).order_by().values(*names, "stage").annotate(n=Count("pk")):
        bucket = counts.setdefault(key_of([row[k] for k in names]), {})
        rank = RANK.get(row["stage"], 0)
        bucket[rank] = bucket.get(rank, 0) + row["n"]
    furthest_sql, furthest_params = _sent_back_furthest_sql(since)
    cohort = leads.annotate(_id=F("pk"), **keys, _stage=F("stage")).order_by().values_list("_id", *names, "_stage")
    cohort_sql, cohort_params = cohort.query.sql_with_params()
    cols = ", ".join(f"c.{name}" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {cols}, c._stage, COALESCE(f.furthest, 0), COUNT(*) FROM ({furthest_sql}) f "
            f"JOIN ({cohort_sql}) c ON c._id = f.lead_id GROUP BY {cols}, c._stage, COALESCE(f.furthest, 0)",
            [*furthest_params, *cohort_params],
        )
        for *values, stage, furthest, n in cursor.fetchall():
            bucket = counts.setdefault(key_of(values), {})
            current = RANK.get(stage, 0)
            bucket[current] = bucket.get(current, 0) - n
            bucket[furthest] = bucket.get(furthest, 0) + n
    return counts


def _counts_live(data) -> dict[datetime.date, dict[int, int]]:
    counts = reached_counts(_cohort(data), {"_week": TruncWeek("created_at")}, since=data["start"])
    return {week: by_rank for (week,), by_rank in counts.items()}


def rollup_run():
    """The funnel rollup's last run, if it is recent enough to show and in this time zone."""
    run = ReportRollupRun.objects.filter(name=ROLLUP_NAME).first()
    if run is None or run.time_zone != timezone.get_current_timezone_name():
        return None
    if run.refreshed_at < timezone.now() - datetime.timedelta(minutes=settings.REPORTS_FUNNEL_ROLLUP_MAX_AGE_MINUTES):
        return None
    return run


def _counts_from_rollup(data) -> dict[datetime.date, dict[int, int]]:
    rows = FunnelRollup.objects.filter(day__gte=data["date_from"], day__lte=data["date_to"])
    if data.get("source"):
        rows = rows.filter(source=data["source"])
    counts: dict[datetime.date, dict[int, int]] = {}
    for row in rows.order_by().values("day", "furthest").annotate(n=Sum("leads")):
        week = row["day"] - datetime.timedelta(days=row["day"].weekday())
        bucket = counts.setdefault(week, {})
        bucket[row["furthest"]] = bucket.get(row["furthest"], 0) + row["n"]
    return counts


def build(data) -> ReportResult:
    # The rollup holds the counts per day, source and furthest stage; segments and campaigns
    # are not in it, so those filters are computed live.
    run = None if (data.get("segment") or data.get("campaign")) else rollup_run()
    counts = _counts_from_rollup(data) if run else _counts_live(data)

    weeks = weeks_in_range(data["start"], data["end"])
    rows, links = [], []
    totals = [0] * len(FUNNEL)
    for week in weeks:
        by_rank = counts.get(week, {})
        reached = [sum(n for r, n in by_rank.items() if r >= i) for i in range(len(FUNNEL))]
        totals = [t + r for t, r in zip(totals, reached, strict=True)]
        rows.append(_row(week_label(week, data), reached))
        start, end = week_bounds(week, data)
        cohort = {"created_at__gte": iso(start), "created_at__lt": iso(end), **lead_filter_params(data)}
        links.append(
            {
                stage: admin_changelist("leads.lead", **cohort, reached=stage if i else None)
                for i, stage in enumerate(FUNNEL)
            }
        )
    total_row = _row("All weeks", totals)
    columns = [Column("week", "Cohort (week created)", "text")]
    for stage in FUNNEL:
        columns.append(Column(stage, S(stage).label))
    columns += [
        Column("mql_rate", "New → MQL", "pct"),
        Column("accept_rate", "Handed off → SAL", "pct"),
        Column("win_rate", "SAL → Customer", "pct"),
    ]
    cohort = Table(
        "cohorts",
        "Stage reached, per weekly cohort",
        columns,
        [*rows, total_row],
        [*links, {}],
        note=_freshness(run),
    )

    # Medians over a very large cohort are as exact from a deterministic sample of its leads and
    # far cheaper (the stays are sorted per lead): above TIME_IN_STAGE_SAMPLE leads, 1 in k.
    sample_every = max(1, math.ceil(totals[0] / TIME_IN_STAGE_SAMPLE))
    stages = _time_in_stage(data, sample_every)
    labels = [SHORT_LABELS[stage] for stage in FUNNEL]
    charts = [
        bar_chart("Leads reaching each stage (all cohorts)", labels, [("Leads", totals)]),
        bar_chart(
            "Median days in stage",
            [SHORT_LABELS[stage] for stage in FUNNEL[:-1]],
            [
                ("Median", [r["median_days"] or 0 for r in stages.rows]),
                ("p90", [r["p90_days"] or 0 for r in stages.rows]),
            ],
        ),
    ]
    return ReportResult([cohort, stages], charts, is_empty=totals[0] == 0)


def _freshness(run) -> str:
    if run is None:
        return "Counted live from the leads and their stage history."
    every = settings.REPORTS_FUNNEL_ROLLUP_MINUTES
    return (
        f"Stage counts as of {timezone.localtime(run.refreshed_at):%Y-%m-%d %H:%M} (the funnel rollup is rebuilt "
        f"every {every} minutes; leads created or moved since then are counted at the next rebuild). With a "
        "segment or campaign filter they are counted live."
    )


def _row(label, reached) -> dict:
    row = {"week": label}
    for stage, n in zip(FUNNEL, reached, strict=True):
        row[stage] = n
    row["mql_rate"] = ratio(reached[RANK[S.MQL]], reached[RANK[S.NEW]])
    row["accept_rate"] = ratio(reached[RANK[S.SAL]], reached[RANK[S.HANDED_OFF]])
    row["win_rate"] = ratio(reached[RANK[S.CUSTOMER]], reached[RANK[S.SAL]])
    return row


def _time_in_stage(data, sample_every: int = 1) -> Table:
    """Each transition out of a stage ends a stay that began at the lead's previous transition
    (or at its creation, for the first): one window function (LAG) over the cohort's
    transitions, then percentiles per stage."""
    cohort = _cohort(data)
    if sample_every > 1:
        # an integer remainder (Mod's output is numeric: compared as such it costs a cast per row)
        cohort = cohort.alias(_bucket=Mod("pk", sample_every, output_field=IntegerField())).filter(_bucket=0)
    cohort = cohort.order_by().annotate(_id=F("pk"), _created=F("created_at")).values_list("_id", "_created")
    cohort_sql, cohort_params = cohort.query.sql_with_params()
    transitions = LeadTransition._meta.db_table
    stay = seconds_between_sql(
        "t.at", "COALESCE(LAG(t.at) OVER (PARTITION BY t.lead_id ORDER BY t.at, t.id), c._created)"
    )
    stages = ", ".join(f"'{stage}'" for stage in FUNNEL[:-1])  # constants, not input
    # The same sample on the transitions' side (it keeps whole leads) lets the join read only
    # their share of the period's transitions.
    sampled = f" AND t.lead_id %% {int(sample_every)} = 0" if sample_every > 1 else ""
    sql = (
        f"SELECT w._g AS _g, w._v AS _v FROM (SELECT t.from_stage AS _g, {stay} AS _v "
        f"FROM {transitions} t JOIN ({cohort_sql}) c ON c._id = t.lead_id WHERE t.at >= %s{sampled}) w "
        f"WHERE w._g IN ({stages})"
    )
    pct = percentiles_sql(sql, [*cohort_params, connection.ops.adapt_datetimefield_value(data["start"])])
    per_stage = {stage: n for stage, (_values, n) in pct.items()}
    pct = {stage: values for stage, (values, _n) in pct.items()}
    rows = []
    for stage in FUNNEL[:-1]:
        median, p90 = pct.get(stage, [None, None])
        rows.append(
            {
                "stage": S(stage).label,
                "left": per_stage.get(stage, 0),
                "median_days": median / DAY if median is not None else None,
                "p90_days": p90 / DAY if p90 is not None else None,
            }
        )
    links = [
        {
            "left": admin_changelist(
                "leads.leadtransition",
                from_stage__exact=stage,
                at__gte=iso(data["start"]),
                lead__created_at__gte=iso(data["start"]),
                lead__created_at__lt=iso(data["end"]),
                **lead_filter_params(data, "lead__"),
            )
        }
        for stage in FUNNEL[:-1]
    ]
    return Table(
        "time_in_stage",
        "Time in stage (cohort leads)",
        [
            Column("stage", "Stage", "text"),
            Column("left", "Stays measured"),
            Column("median_days", "Median (days)", "days"),
            Column("p90_days", "p90 (days)", "days"),
        ],
        rows,
        links,
        note=(
            "Stays measured counts moves out of the stage by leads of these cohorts"
            + (f", from 1 in {sample_every} of the cohort's leads (by id)" if sample_every > 1 else "")
            + "; the link lists all of those moves"
            + (" (of every lead of the cohorts)" if sample_every > 1 else "")
            + "."
        ),
    )
