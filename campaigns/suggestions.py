"""Which collateral fits a lead: an explainable ranking of the current library.

Each current item (not archived, not expired, with a file or URL to hand out) earns points
for what it has in common with the lead, and every point comes with a reason a rep can read:

- objections the item answers that the lead raised: ``OBJECTION_POINTS`` each
- the lead's industry among the item's industries: ``INDUSTRY_POINTS``;
  an item tagged with no industry fits any: ``ANY_INDUSTRY_POINTS``
- the item's funnel stage is the lead's (from its lifecycle stage): ``FUNNEL_POINTS``
- the item is approved for a segment the lead is in: ``SEGMENT_POINTS``

An item approved only for segments the lead is not in is never suggested (it is not approved
for this lead). Items with no points are not suggested. Ties go to the most recently updated
item, then by title.

The library is small (hundreds of items), so items are scored in Python after one query; the
tags are JSON lists, which SQLite cannot search inside. Segment membership of the lead for
every approved segment is one more query (one conditional aggregate over the lead's row).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count

from leads.api import Lead, LifecycleStage

from .models import Collateral, FunnelStage, ObjectionCategory

OBJECTION_POINTS = 4
INDUSTRY_POINTS = 3
ANY_INDUSTRY_POINTS = 1
FUNNEL_POINTS = 2
SEGMENT_POINTS = 1

S = LifecycleStage

FUNNEL_STAGE_FOR_LIFECYCLE: dict[str, str] = {
    S.NEW: FunnelStage.AWARENESS,
    S.ENGAGED: FunnelStage.AWARENESS,
    S.RECYCLED: FunnelStage.AWARENESS,
    S.DISQUALIFIED: FunnelStage.AWARENESS,
    S.MQL: FunnelStage.CONSIDERATION,
    S.HANDED_OFF: FunnelStage.CONSIDERATION,
    S.SAL: FunnelStage.CONSIDERATION,
    S.OPPORTUNITY: FunnelStage.DECISION,
    S.CUSTOMER: FunnelStage.RETENTION,
}


def funnel_stage_for(lead_stage: str) -> str:
    return FUNNEL_STAGE_FOR_LIFECYCLE.get(lead_stage, FunnelStage.AWARENESS)


@dataclass
class CollateralSuggestion:
    """One suggested item, its score and the reasons for it (human-readable, in score order)."""

    collateral: Collateral
    score: int
    reasons: list[str] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.collateral.pk

    @property
    def title(self) -> str:
        return self.collateral.title


def _norm(value) -> str:
    return str(value).strip().lower()


def lead_segment_memberships(*, lead: Lead, segments: Iterable) -> set[int]:
    """Ids of those ``segments`` that contain ``lead``: one query, whatever their number."""
    segments = list({s.pk: s for s in segments}.values())
    if not segments:
        return set()
    from leads.api import segment_member_q  # the segment compiler lives in leads; imported where used

    filters = {}
    for segment in segments:
        try:
            filters[f"s{segment.pk}"] = Count("pk", filter=segment_member_q(segment))
        except ValidationError:
            continue  # a segment whose rules no longer compile contains no one
    if not filters:
        return set()
    counts = Lead.objects.filter(pk=lead.pk).aggregate(**filters)
    return {s.pk for s in segments if counts.get(f"s{s.pk}")}


def collateral_suggestions(*, lead: Lead, objection_categories: Iterable[str] = (), limit: int = 5):
    """The best current items for ``lead``, best first, at most ``limit``.

    ``objection_categories`` are the objections the lead raised (``ObjectionCategory``
    values; unknown values are ignored). Returns ``CollateralSuggestion`` objects with the
    item, its score and the reasons. Reads only; at most three queries.
    """
    raised = {c for c in (_norm(c) for c in objection_categories) if c in ObjectionCategory.values}
    industry = _norm(lead.industry) if lead.industry else ""
    stage = funnel_stage_for(lead.stage)

    items = list(
        Collateral.objects.shareable()
        .select_related("current_version")
        .prefetch_related("approved_segments")
        .order_by("-updated_at", "title", "pk")
    )
    member_of = lead_segment_memberships(
        lead=lead, segments=(s for item in items for s in item.approved_segments.all())
    )

    suggestions = []
    for item in items:
        approved = list(item.approved_segments.all())
        matching_segments = [s for s in approved if s.pk in member_of]
        if approved and not matching_segments:
            continue
        score, reasons = 0, []
        answered = [
            c for c in ObjectionCategory.values if c in raised and c in {_norm(x) for x in item.objection_categories}
        ]
        for category in answered:
            score += OBJECTION_POINTS
            reasons.append(f"Answers the {ObjectionCategory(category).label.lower()} objection")
        item_industries = {_norm(x) for x in item.industries}
        if industry and industry in item_industries:
            score += INDUSTRY_POINTS
            reasons.append(f"Made for {lead.industry}")
        elif not item_industries:
            score += ANY_INDUSTRY_POINTS
            reasons.append("Fits any industry")
        if item.funnel_stage and item.funnel_stage == stage:
            score += FUNNEL_POINTS
            reasons.append(f"For the {FunnelStage(stage).label.lower()} stage")
        if matching_segments:
            score += SEGMENT_POINTS
            reasons.append("Approved for " + ", ".join(s.name for s in matching_segments))
        if score > 0:
            suggestions.append(CollateralSuggestion(collateral=item, score=score, reasons=reasons))
    # sorted() is stable: equal scores keep the query order (newest first, then title).
    suggestions.sort(key=lambda s: -s.score)
    return suggestions[: max(0, int(limit))]
