"""Objections report: what customers push back on, by category and by industry / segment /
campaign; how often the rep overcame it, what happened to the lead next, which collateral
helped, and the latest notes per category. Marketing's window into what customers want."""

from __future__ import annotations

from django import forms
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber

from campaigns.api import ObjectionCategory
from crm.api import ObjectionNote
from leads.api import Lead, LeadOutcome, LeadTransition, LifecycleStage, Segment

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
    segment_flag_sql,
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


def _grouped(data, by_industry: bool) -> list[dict]:
    """The period's notes counted per (category, what happened next[, the lead's industry]),
    with how many were overcome. What happened next is the lead's first outcome after the note:
    won, lost, or sent back to marketing (recycled: rejected or no contact). Set-based: the
    outcome transitions since the period's start are joined to the notes in one pass and the
    first per note kept, instead of one probe per note."""
    columns = {"_id": F("pk"), "_lead": F("lead_id"), "_cat": F("category"), "_at": F("created_at")}
    notes = _notes(data).annotate(**columns, _over=F("overcome"))
    names = [*columns, "_over"]
    if by_industry:
        # one indexed probe per note (a join would read every lead)
        notes = notes.annotate(_dim=Subquery(Lead.objects.filter(pk=OuterRef("lead_id")).values("industry")[:1]))
        names.append("_dim")
    notes_sql, notes_params = notes.order_by().values_list(*names).query.sql_with_params()
    pairs_sql, pairs_params = _notes(data).annotate(**columns).order_by().values_list(*columns).query.sql_with_params()
    transitions = LeadTransition._meta.db_table
    first_outcome = f"""
        SELECT x.note_id, x.outcome FROM (
            SELECT p._id AS note_id,
                   CASE WHEN t.outcome = %s THEN 'won' WHEN t.outcome = %s THEN 'lost'
                        WHEN t.to_stage = %s THEN 'recycled' ELSE '' END AS outcome,
                   ROW_NUMBER() OVER (PARTITION BY p._id ORDER BY t.at, t.id) AS rn
            FROM ({pairs_sql}) p JOIN {transitions} t ON t.lead_id = p._lead AND t.at >= p._at
            WHERE (t.outcome = %s OR t.outcome = %s OR t.to_stage = %s) AND t.at >= %s
        ) x WHERE x.rn = 1"""
    outcome_params = [LeadOutcome.WON, LeadOutcome.LOST, LifecycleStage.RECYCLED]
    dim = ", n._dim" if by_industry else ""
    sql = (
        f"SELECT n._cat, f.outcome{dim}, COUNT(*), SUM(CASE WHEN n._over THEN 1 ELSE 0 END) "
        f"FROM ({notes_sql}) n LEFT JOIN ({first_outcome}) f ON f.note_id = n._id "
        f"GROUP BY n._cat, f.outcome{dim}"
    )
    params = [
        *notes_params,
        *outcome_params,
        *pairs_params,
        *outcome_params,
        connection.ops.adapt_datetimefield_value(data["start"]),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    keys = ["category", "next_outcome", *(["dim"] if by_industry else []), "total", "overcome"]
    return [dict(zip(keys, row, strict=True)) for row in fetched]


def build(data) -> ReportResult:
    labels = dict(ObjectionCategory.choices)
    aggregated: dict[str, dict] = {}
    by_industry = (data.get("by") or "industry") == "industry"
    grouped = _grouped(data, by_industry)
    for r in grouped:
        agg = aggregated.setdefault(r["category"], {"total": 0, "overcome": 0, "won": 0, "lost": 0, "recycled": 0})
        agg["total"] += r["total"]
        agg["overcome"] += r["overcome"]
        if r["next_outcome"] in ("won", "lost", "recycled"):
            agg[r["next_outcome"]] += r["total"]
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
            Column("won", "Next: won"),
            Column("lost", "Next: lost"),
            Column("recycled", "Next: sent back"),
            Column("collateral", "Collateral used most when overcome", "text"),
        ],
        rows,
        links,
    )
    industry_pairs = None
    if by_industry:
        merged: dict[tuple, int] = {}
        for r in grouped:
            merged[(r["category"], r["dim"])] = merged.get((r["category"], r["dim"]), 0) + r["total"]
        industry_pairs = [{"category": c, "dim": d, "n": n} for (c, d), n in merged.items()]
    cross = _cross_table(data, labels, industry_pairs)
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


def _cross_table(data, labels, industry_pairs=None) -> Table:
    by = data.get("by") or "industry"
    notes = _notes(data)
    if by == "segment":
        segments = list(Segment.objects.order_by("name")[:MAX_CROSS_COLUMNS])
        dims = [(f"s{s.pk}", s.name) for s in segments]
        cells = {}
        if segments:
            note_q = Q(objections__created_at__gte=data["start"], objections__created_at__lt=data["end"])
            if data.get("category"):
                note_q &= Q(objections__category=data["category"])
            leads = Lead.objects.filter(note_q & lead_filter_q(data))
            sql, params = segment_flag_sql(leads, segments, _cat=F("objections__category"))
            sums = ", ".join(f"SUM(t._s{s.pk})" for s in segments)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT t._cat, {sums} FROM ({sql}) t GROUP BY t._cat", params)
                for category, *counts in cursor.fetchall():
                    for (key, _), n in zip(dims, counts, strict=True):
                        cells[(category, key)] = n or 0
    else:
        if by == "industry":
            pairs = industry_pairs or []
        else:
            pairs = list(
                ObjectionNote.objects.filter(pk__in=notes.values("pk"))
                .annotate(dim=F("lead__campaign_memberships__campaign__name"))
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
    # Rank only (id, category, created_at) with the window, then load the few rows picked.
    ranked_ids = list(
        _notes(data)
        .annotate(
            rn=Window(RowNumber(), partition_by=[F("category")], order_by=[F("created_at").desc(), F("id").desc()])
        )
        .filter(rn__lte=RECENT_PER_CATEGORY)
        .values_list("id", flat=True)
    )
    ranked = (
        ObjectionNote.objects.filter(pk__in=ranked_ids)
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
