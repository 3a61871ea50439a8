"""Objections report: what customers push back on, by category and by industry / segment /
campaign; how often the rep overcame it, what happened to the lead next, which collateral
helped, and the latest notes per category. Marketing's window into what customers want."""

from __future__ import annotations

from django import forms
from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber

from campaigns.models import ObjectionCategory
from crm.models import ObjectionNote
from leads.api import REASON_LOST_PREFIX, REASON_WON
from leads.models import LeadTransition, LifecycleStage, Segment

from .base import (
    Column,
    DateRangeForm,
    ReportResult,
    Table,
    admin_changelist,
    campaign_field,
    iso,
    lead_filter_q,
    ratio,
    segment_field,
    segment_lead_ids,
    source_field,
)
from .charts import bar_chart

SLUG = "objections"
TITLE = "Objections"
DESCRIPTION = "Objections by category and industry, segment or campaign; overcome rate, what happened next, collateral that helped, latest notes."
EMPTY = (
    "No objections were logged in this period. When reps log objections on their calls, this page shows the "
    "categories customers raise, how often they were overcome, what happened to the lead next and which "
    "collateral helped."
)
RECENT_PER_CATEGORY = 3
MAX_CROSS_COLUMNS = 8
BY_CHOICES = [("industry", "Industry"), ("segment", "Segment"), ("campaign", "Campaign")]


class FilterForm(DateRangeForm):
    by = forms.ChoiceField(choices=BY_CHOICES, required=False, label="Break down by")
    category = forms.ChoiceField(choices=[("", "Any category"), *ObjectionCategory.choices], required=False)
    segment = segment_field()
    campaign = campaign_field()
    source = source_field()


def _notes(data):
    q = Q(created_at__gte=data["start"], created_at__lt=data["end"]) & lead_filter_q(data, "lead__")
    if data.get("category"):
        q &= Q(category=data["category"])
    qs = ObjectionNote.objects.filter(q)
    return qs.distinct() if data.get("campaign") else qs


def _after(**filters):
    return Exists(LeadTransition.objects.filter(lead=OuterRef("lead_id"), at__gte=OuterRef("created_at"), **filters))


def build(data) -> ReportResult:
    labels = dict(ObjectionCategory.choices)
    notes = _notes(data).annotate(
        then_won=_after(reason=REASON_WON),
        then_lost=_after(reason__startswith=REASON_LOST_PREFIX),
        then_recycled=_after(to_stage=LifecycleStage.RECYCLED),
    )
    aggregated = {
        r["category"]: r
        for r in notes.order_by()
        .values("category")
        .annotate(
            total=Count("id"),
            overcome=Count("id", filter=Q(overcome=True)),
            won=Count("id", filter=Q(then_won=True)),
            lost=Count("id", filter=Q(then_lost=True)),
            recycled=Count("id", filter=Q(then_recycled=True)),
        )
    }
    top_collateral: dict[str, tuple[str, int]] = {}
    for r in (
        _notes(data)
        .filter(overcome=True, collateral__isnull=False)
        .order_by()
        .values("category", "collateral__title")
        .annotate(n=Count("id"))
        .order_by("category", "-n", "collateral__title")
    ):
        top_collateral.setdefault(r["category"], (r["collateral__title"], r["n"]))

    rows, links = [], []
    base_link = {"created_at__gte": iso(data["start"]), "created_at__lt": iso(data["end"])}
    for category, label in ObjectionCategory.choices:
        agg = aggregated.get(category)
        if not agg:
            continue
        collateral = top_collateral.get(category)
        rows.append(
            {
                "category": label,
                "total": agg["total"],
                "overcome": agg["overcome"],
                "overcome_rate": ratio(agg["overcome"], agg["total"]),
                "won": agg["won"],
                "lost": agg["lost"],
                "recycled": agg["recycled"],
                "collateral": f"{collateral[0]} ({collateral[1]})" if collateral else "",
            }
        )
        links.append(
            {
                "total": admin_changelist("crm.objectionnote", category__exact=category, **base_link),
                "overcome": admin_changelist(
                    "crm.objectionnote", category__exact=category, overcome__exact=1, **base_link
                ),
            }
        )
    summary = Table(
        "categories",
        "By category",
        [
            Column("category", "Category", "text"),
            Column("total", "Objections"),
            Column("overcome", "Overcome"),
            Column("overcome_rate", "Overcome rate", "pct"),
            Column("won", "Then won"),
            Column("lost", "Then lost"),
            Column("recycled", "Then recycled"),
            Column("collateral", "Collateral used most when overcome", "text"),
        ],
        rows,
        links,
    )
    cross = _cross_table(data, labels)
    recent = _recent(data, labels)
    charts = []
    if rows:
        charts.append(
            bar_chart(
                "Objections by category",
                [r["category"] for r in rows],
                [("Raised", [r["total"] for r in rows]), ("Overcome", [r["overcome"] for r in rows])],
            )
        )
    return ReportResult([summary, cross, recent], charts, is_empty=not rows)


def _cross_table(data, labels) -> Table:
    by = data.get("by") or "industry"
    notes = _notes(data)
    if by == "segment":
        segments = list(Segment.objects.order_by("name")[:MAX_CROSS_COLUMNS])
        dims = [(f"s{s.pk}", s.name) for s in segments]
        aggregates = {f"s{s.pk}": Count("id", filter=Q(lead__in=segment_lead_ids(s))) for s in segments}
        raw = list(notes.order_by().values("category").annotate(**aggregates)) if segments else []
        cells = {(r["category"], key): r[key] for r in raw for key, _ in dims}
    else:
        dim = F("lead__industry") if by == "industry" else F("lead__campaign_memberships__campaign__name")
        pairs = list(
            ObjectionNote.objects.filter(pk__in=notes.values("pk"))
            .annotate(dim=dim)
            .order_by()
            .values("category", "dim")
            .annotate(n=Count("id", distinct=True))
        )
        totals: dict[str, int] = {}
        for p in pairs:
            key = p["dim"] or "(none)"
            totals[key] = totals.get(key, 0) + p["n"]
        top = sorted(totals, key=lambda k: (-totals[k], k))[:MAX_CROSS_COLUMNS]
        dims = [(f"d{i}", name) for i, name in enumerate(top)]
        index = {name: key for key, name in dims}
        cells = {}
        for p in pairs:
            key = index.get(p["dim"] or "(none)")
            if key:
                cells[(p["category"], key)] = cells.get((p["category"], key), 0) + p["n"]
    rows = []
    for category, label in ObjectionCategory.choices:
        row = {"category": label}
        row.update({key: cells.get((category, key), 0) for key, _ in dims})
        if any(row[key] for key, _ in dims):
            rows.append(row)
    title = dict(BY_CHOICES)[by]
    return Table(
        "by_dimension",
        f"Category × {title.lower()} (top {MAX_CROSS_COLUMNS})",
        [Column("category", "Category", "text"), *[Column(key, name) for key, name in dims]],
        rows,
        note="A lead in several campaigns or segments counts under each." if by != "industry" else "",
    )


def _recent(data, labels) -> Table:
    ranked = (
        _notes(data)
        .annotate(
            rn=Window(RowNumber(), partition_by=[F("category")], order_by=[F("created_at").desc(), F("id").desc()])
        )
        .filter(rn__lte=RECENT_PER_CATEGORY)
        .select_related("lead", "collateral")
        .order_by("category", "-created_at", "-id")
    )
    rows, links = [], []
    for note in ranked:
        rows.append(
            {
                "category": labels.get(note.category, note.category),
                "created_at": note.created_at,
                "lead": str(note.lead) if note.lead else "",
                "said": note.said,
                "response": note.response,
                "overcome": "yes" if note.overcome else "no",
                "collateral": note.collateral.title if note.collateral else "",
            }
        )
        links.append({"said": admin_changelist("crm.objectionnote", id=note.pk)})
    return Table(
        "recent",
        f"Most recent notes ({RECENT_PER_CATEGORY} per category)",
        [
            Column("category", "Category", "text"),
            Column("created_at", "When", "text"),
            Column("lead", "Lead", "text"),
            Column("said", "What was said", "note"),
            Column("response", "How it was answered", "note"),
            Column("overcome", "Overcome", "text"),
            Column("collateral", "Collateral", "text"),
        ],
        rows,
        links,
    )
