"""Funnel report: of the leads created each week (the cohort), how many reached each lifecycle
stage, the conversion from stage to stage, and how long leads stay in each stage.

A lead "reached" a stage when it reached it or any later one (a lead that went NEW -> MQL
directly also counts as engaged), so the funnel never widens. Time in stage is measured from
the transition into a stage to the next transition out of it, for every stay in the cohort.
"""

from __future__ import annotations

import datetime

from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from leads.models import Lead, LeadTransition, LifecycleStage

from .base import (
    Column,
    DateRangeForm,
    ReportResult,
    SecondsBetween,
    Table,
    admin_changelist,
    as_week,
    campaign_field,
    iso,
    lead_filter_q,
    percentiles,
    ratio,
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
    rank = Case(*[When(to_stage=stage, then=Value(i)) for i, stage in enumerate(FUNNEL)], output_field=IntegerField())
    furthest = (
        LeadTransition.objects.filter(lead=OuterRef("pk"))
        .annotate(rank=rank)
        .filter(rank__isnull=False)
        .order_by("-rank")
        .values("rank")[:1]
    )
    counts: dict[datetime.date, dict[int, int]] = {}
    rows_qs = (
        _cohort(data)
        .annotate(week=TruncWeek("created_at"), furthest=Coalesce(Subquery(furthest, output_field=IntegerField()), 0))
        .order_by()
        .values("week", "furthest")
        .annotate(n=Count("pk"))
    )
    for row in rows_qs:
        counts.setdefault(as_week(row["week"]), {})[row["furthest"]] = row["n"]

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

    stages = _time_in_stage(data)
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


def _time_in_stage(data) -> Table:
    """Each transition out of a stage ends a stay that began at the latest transition into it
    (or at the lead's creation, for NEW)."""
    entered = (
        LeadTransition.objects.filter(lead=OuterRef("lead_id"), to_stage=OuterRef("from_stage"), at__lte=OuterRef("at"))
        .order_by("-at", "-id")
        .values("at")[:1]
    )
    cohort_ids = _cohort(data).values("pk")
    exits = LeadTransition.objects.filter(lead__in=cohort_ids, from_stage__in=FUNNEL[:-1]).annotate(
        entered_at=Coalesce(Subquery(entered), "lead__created_at"),
        stay=SecondsBetween("at", "entered_at"),
    )
    per_stage = {r["from_stage"]: r["n"] for r in exits.order_by().values("from_stage").annotate(n=Count("id"))}
    pct = percentiles(exits, group="from_stage", value="stay")
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
            Column("left", "Stays ended"),
            Column("median_days", "Median (days)", "days"),
            Column("p90_days", "p90 (days)", "days"),
        ],
        rows,
        links,
        note="Stays ended counts moves out of the stage by leads of these cohorts; the link lists all such moves since the start date.",
    )
