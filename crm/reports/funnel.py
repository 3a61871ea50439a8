"""Funnel report: of the leads created each week (the cohort), how many reached each lifecycle
stage, the conversion from stage to stage, and how long leads stay in each stage.

A lead "reached" a stage when it reached it or any later one (a lead that went NEW -> MQL
directly also counts as engaged), so the funnel never widens. Time in stage is measured from
the transition into a stage to the next transition out of it, for every stay in the cohort.
"""

from __future__ import annotations

import datetime
import math

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Mod, TruncWeek
from django.utils import timezone

from leads.models import Lead, LeadTransition, LifecycleStage

from .base import (
    Column,
    DateRangeForm,
    ReportResult,
    Table,
    admin_changelist,
    as_week,
    campaign_field,
    iso,
    lead_filter_q,
    percentiles_sql,
    ratio,
    seconds_between_sql,
    segment_field,
    source_field,
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


def build(data) -> ReportResult:
    # Per lead, the furthest funnel stage it reached. Stages only move forward except through
    # RECYCLED / DISQUALIFIED, so for a lead never sent back its current stage is the furthest:
    # count the cohort by (week, current stage) in one pass, then correct only the leads that
    # were sent back (found through the (to_stage, at) index) with their furthest stage.
    counts: dict[datetime.date, dict[int, int]] = {}
    for row in (
        _cohort(data).annotate(week=TruncWeek("created_at")).order_by().values("week", "stage").annotate(n=Count("pk"))
    ):
        bucket = counts.setdefault(as_week(row["week"]), {})
        rank = RANK.get(row["stage"], 0)
        bucket[rank] = bucket.get(rank, 0) + row["n"]
    rank_case = Case(
        *[When(to_stage=stage, then=Value(i)) for i, stage in enumerate(FUNNEL)], output_field=IntegerField()
    )
    furthest = (
        LeadTransition.objects.filter(lead=OuterRef("lead_id"), at__gte=data["start"])
        .order_by()
        .values("lead")
        .annotate(furthest=Max(rank_case))
        .values("furthest")
    )
    # Driven from the sent-back transitions (few, through the (to_stage, at) index) joined to
    # their leads, with one probe per row for the furthest stage.
    corrections = (
        LeadTransition.objects.filter(
            Q(
                to_stage__in=[S.RECYCLED, S.DISQUALIFIED],
                at__gte=data["start"],
                lead__created_at__gte=data["start"],
                lead__created_at__lt=data["end"],
            )
            & lead_filter_q(data, "lead__")
        )
        .annotate(
            week=TruncWeek("lead__created_at"),
            _stage=F("lead__stage"),
            furthest=Coalesce(Subquery(furthest, output_field=IntegerField()), 0),
        )
        .order_by()
        .values("week", "_stage", "furthest")
        .annotate(n=Count("lead_id", distinct=True))
    )
    for row in corrections:
        bucket = counts.setdefault(as_week(row["week"]), {})
        current = RANK.get(row["_stage"], 0)
        bucket[current] = bucket.get(current, 0) - row["n"]
        bucket[row["furthest"]] = bucket.get(row["furthest"], 0) + row["n"]

    weeks = weeks_in_range(data["start"], data["end"])
    rows, links = [], []
    totals = [0] * len(FUNNEL)
    for week in weeks:
        by_rank = counts.get(week, {})
        reached = [sum(n for r, n in by_rank.items() if r >= i) for i in range(len(FUNNEL))]
        totals = [t + r for t, r in zip(totals, reached, strict=True)]
        rows.append(_row(week, reached))
        tz = timezone.get_current_timezone()
        start = max(datetime.datetime.combine(week, datetime.time.min, tzinfo=tz), data["start"])
        end = min(
            datetime.datetime.combine(week + datetime.timedelta(weeks=1), datetime.time.min, tzinfo=tz), data["end"]
        )
        links.append(
            {
                "new": admin_changelist(
                    "leads.lead", created_at__gte=iso(start), created_at__lt=iso(end), source__exact=data.get("source")
                )
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
    cohort = Table("cohorts", "Stage reached, per weekly cohort", columns, [*rows, total_row], [*links, {}])

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
        cohort = cohort.alias(_bucket=Mod("pk", sample_every)).filter(_bucket=0)
    cohort = cohort.order_by().annotate(_id=F("pk"), _created=F("created_at")).values_list("_id", "_created")
    cohort_sql, cohort_params = cohort.query.sql_with_params()
    transitions = LeadTransition._meta.db_table
    stay = seconds_between_sql(
        "t.at", "COALESCE(LAG(t.at) OVER (PARTITION BY t.lead_id ORDER BY t.at, t.id), c._created)"
    )
    stages = ", ".join(f"'{stage}'" for stage in FUNNEL[:-1])  # constants, not input
    sql = (
        f"SELECT w._g AS _g, w._v AS _v FROM (SELECT t.from_stage AS _g, {stay} AS _v "
        f"FROM {transitions} t JOIN ({cohort_sql}) c ON c._id = t.lead_id WHERE t.at >= %s) w "
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
        {"left": admin_changelist("leads.leadtransition", from_stage__exact=stage, at__gte=iso(data["start"]))}
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
            + "; the link lists all such moves since the start date."
        ),
    )
