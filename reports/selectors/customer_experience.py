"""Customer experience: feedback ratings (0-10, NPS style) per week, by segment and by campaign.
Promoters rate 9-10, passives 7-8, detractors 0-6; NPS = % promoters - % detractors."""

from __future__ import annotations

from django import forms
from django.db import connection
from django.db.models import Avg, Count, F, Q
from django.db.models.functions import TruncWeek

from campaigns.api import CustomerFeedback, FeedbackSource
from leads.api import Lead, Segment

from .base import (
    Column,
    DateRangeForm,
    ReportResult,
    Table,
    admin_changelist,
    as_week,
    campaign_field,
    iso,
    segment_field,
    segment_flag_sql,
    segment_lead_ids,
    weeks_in_range,
)
from .charts import bar_chart, line_chart

SLUG = "customer-experience"
TITLE = "Customer experience"
DESCRIPTION = "Feedback ratings and NPS over time, by segment and by campaign."
EMPTY = (
    "No customer feedback in this period. When customers answer a survey or a rep records their rating, "
    "this page shows the NPS (promoters minus detractors) per week, per segment and per campaign."
)
MAX_SEGMENTS = 12
PROMOTER = Q(rating__gte=9)
DETRACTOR = Q(rating__lte=6)
PASSIVE = Q(rating__gte=7, rating__lte=8)


class FilterForm(DateRangeForm):
    feedback_source = forms.ChoiceField(
        choices=[("", "Any"), *FeedbackSource.choices], required=False, label="Feedback source"
    )
    segment = segment_field()
    campaign = campaign_field()


def _feedback(data):
    q = Q(created_at__gte=data["start"], created_at__lt=data["end"])
    if data.get("feedback_source"):
        q &= Q(source=data["feedback_source"])
    if data.get("campaign"):
        q &= Q(campaign=data["campaign"])
    if data.get("segment"):
        q &= Q(lead__in=segment_lead_ids(data["segment"]))
    return CustomerFeedback.objects.filter(q)


NPS_AGGREGATES = {
    "responses": Count("id"),
    "average": Avg("rating"),
    "promoters": Count("id", filter=PROMOTER),
    "passives": Count("id", filter=PASSIVE),
    "detractors": Count("id", filter=DETRACTOR),
}


def _nps_row(label, r) -> dict:
    n = r.get("responses") or 0
    return {
        "label": label,
        "responses": n,
        "average": float(r["average"]) if r.get("average") is not None else None,
        "promoters": r.get("promoters", 0),
        "passives": r.get("passives", 0),
        "detractors": r.get("detractors", 0),
        "nps": (100.0 * (r.get("promoters", 0) - r.get("detractors", 0)) / n) if n else None,
    }


def _columns(first: str) -> list[Column]:
    return [
        Column("label", first, "text"),
        Column("responses", "Responses"),
        Column("average", "Average rating", "float"),
        Column("promoters", "Promoters (9-10)"),
        Column("passives", "Passives (7-8)"),
        Column("detractors", "Detractors (0-6)"),
        Column("nps", "NPS", "float"),
    ]


def build(data) -> ReportResult:
    feedback = _feedback(data)
    start, end = data["start"], data["end"]
    weekly = {
        as_week(r["week"]): r
        for r in feedback.annotate(week=TruncWeek("created_at")).order_by().values("week").annotate(**NPS_AGGREGATES)
    }
    weeks = weeks_in_range(start, end)
    week_rows = [_nps_row(w, weekly.get(w, {})) for w in weeks]
    total = _nps_row("All weeks", feedback.aggregate(**NPS_AGGREGATES))
    link = {"created_at__gte": iso(start), "created_at__lt": iso(end)}
    week_table = Table(
        "weekly",
        "Per week",
        _columns("Week of"),
        [*week_rows, total],
        [{} for _ in week_rows]
        + [
            {
                "responses": admin_changelist("campaigns.customerfeedback", **link),
                "detractors": admin_changelist("campaigns.customerfeedback", rating__lte=6, **link),
                "promoters": admin_changelist("campaigns.customerfeedback", rating__gte=9, **link),
            }
        ],
    )

    segments = list(Segment.objects.order_by("name")[:MAX_SEGMENTS])
    segment_rows = []
    if segments:
        fb_q = Q(feedback__created_at__gte=start, feedback__created_at__lt=end)
        if data.get("feedback_source"):
            fb_q &= Q(feedback__source=data["feedback_source"])
        if data.get("campaign"):
            fb_q &= Q(feedback__campaign=data["campaign"])
        leads = Lead.objects.filter(fb_q)
        if data.get("segment"):
            leads = leads.filter(pk__in=segment_lead_ids(data["segment"]))
        sql, params = segment_flag_sql(leads, segments, _rating=F("feedback__rating"))
        columns = []
        for seg in segments:
            flag = f"t._s{seg.pk}"
            columns += [
                f"SUM({flag})",
                f"SUM(CASE WHEN {flag} = 1 AND t._rating >= 9 THEN 1 ELSE 0 END)",
                f"SUM(CASE WHEN {flag} = 1 AND t._rating BETWEEN 7 AND 8 THEN 1 ELSE 0 END)",
                f"SUM(CASE WHEN {flag} = 1 AND t._rating <= 6 THEN 1 ELSE 0 END)",
                f"SUM(CASE WHEN {flag} = 1 THEN t._rating ELSE 0 END)",
            ]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(columns)} FROM ({sql}) t", params)
            got = cursor.fetchone()
        for i, seg in enumerate(segments):
            n, promoters, passives, detractors, rating_sum = (v or 0 for v in got[5 * i : 5 * i + 5])
            if n:
                segment_rows.append(
                    _nps_row(
                        seg.name,
                        {
                            "responses": n,
                            "average": rating_sum / n,
                            "promoters": promoters,
                            "passives": passives,
                            "detractors": detractors,
                        },
                    )
                )
    segment_table = Table(
        "segments",
        f"By segment (first {MAX_SEGMENTS} segments by name)",
        _columns("Segment"),
        segment_rows,
        note="A customer in several segments counts in each.",
    )
    campaign_rows = [
        _nps_row(r["campaign__name"] or "(no campaign)", r)
        for r in feedback.order_by().values("campaign__name").annotate(**NPS_AGGREGATES).order_by("campaign__name")
    ]
    campaign_table = Table("campaigns", "By campaign", _columns("Campaign"), campaign_rows)
    labels = [w.strftime("%d %b") for w in weeks]
    charts = []
    if total["responses"]:
        charts = [
            line_chart("NPS per week", labels, [("NPS", [r["nps"] for r in week_rows])], y_range=(-100, 100)),
            bar_chart(
                "Promoters, passives and detractors per week",
                labels,
                [
                    ("Promoters", [r["promoters"] for r in week_rows]),
                    ("Passives", [r["passives"] for r in week_rows]),
                    ("Detractors", [r["detractors"] for r in week_rows]),
                ],
            ),
        ]
    return ReportResult([week_table, segment_table, campaign_table], charts, is_empty=not total["responses"])
