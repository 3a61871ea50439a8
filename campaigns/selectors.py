"""Reads of campaigns data, with row visibility applied and related rows loaded up front.

Marketing and managers read everything. A rep reads campaigns and the current library (the
items they may share), sees campaign members only for the leads they own, and their own
shares. People with no role see nothing.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.roles import is_manager, is_marketer, is_rep
from leads.api import LeadOutcome, LeadTransition, Segment

from .influence import DealInput
from .models import (
    Campaign,
    CampaignMember,
    Collateral,
    CollateralShare,
    CollateralVersion,
    CollateralView,
    CustomerFeedback,
    MemberStatus,
)


def reads_all(user) -> bool:
    return is_marketer(user) or is_manager(user)


def has_role(user) -> bool:
    return reads_all(user) or is_rep(user)


def campaign_list_for_user(*, user) -> QuerySet[Campaign]:
    if not has_role(user):
        return Campaign.objects.none()
    members = CampaignMember.objects.filter(campaign=OuterRef("pk")).order_by().values("campaign")
    return Campaign.objects.select_related("owner", "target_segment").annotate(
        member_count=Coalesce(Subquery(members.annotate(n=Count("pk")).values("n")), 0),
        responded_count=Coalesce(
            Subquery(
                members.filter(status__in=[MemberStatus.RESPONDED, MemberStatus.CONVERTED])
                .annotate(n=Count("pk"))
                .values("n")
            ),
            0,
        ),
    )


def campaign_members_for_user(*, campaign: Campaign, user) -> QuerySet[CampaignMember]:
    qs = CampaignMember.objects.filter(campaign=campaign).select_related("campaign", "lead", "lead__owner")
    if reads_all(user):
        return qs
    if is_rep(user):
        return qs.filter(lead__owner=user)
    return qs.none()


def stale_cutoff(now=None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=getattr(settings, "COLLATERAL_STALE_DAYS", 90))


def collateral_with_usage(qs: QuerySet[Collateral], *, now=None) -> QuerySet[Collateral]:
    """Annotate share and view counts, the last share and ``is_stale``: expired, or older than
    the stale window and not shared within it. One query for any number of items."""
    now = now or timezone.now()
    cutoff = stale_cutoff(now)
    shares = CollateralShare.objects.filter(collateral=OuterRef("pk")).order_by().values("collateral")
    views = CollateralView.objects.filter(share__collateral=OuterRef("pk")).order_by().values("share__collateral")
    return qs.annotate(
        share_count=Coalesce(Subquery(shares.annotate(n=Count("pk")).values("n")), 0),
        view_count=Coalesce(Subquery(views.annotate(n=Count("pk")).values("n")), 0),
        last_shared_at=Subquery(shares.annotate(m=Max("shared_at")).values("m"), output_field=DateTimeField()),
    ).annotate(
        is_stale=ExpressionWrapper(
            Case(
                When(expires_on__lt=timezone.localdate(now), then=Value(True)),
                When(
                    Q(created_at__lt=cutoff) & (Q(last_shared_at__isnull=True) | Q(last_shared_at__lt=cutoff)),
                    then=Value(True),
                ),
                default=Value(False),
            ),
            output_field=BooleanField(),
        )
    )


def collateral_list_for_user(*, user, include_archived: bool = True) -> QuerySet[Collateral]:
    """Marketing and managers: the whole library (archived too unless told otherwise); reps:
    the items they may share now (current, with something to hand out)."""
    base = Collateral.objects.select_related("owner", "current_version").prefetch_related(
        Prefetch("approved_segments", queryset=Segment.objects.order_by("name"))
    )
    if reads_all(user):
        qs = base if include_archived else base.filter(is_archived=False)
    elif is_rep(user):
        qs = base.shareable()
    else:
        return Collateral.objects.none()
    return collateral_with_usage(qs)


def collateral_stale(*, user) -> QuerySet[Collateral]:
    return collateral_list_for_user(user=user, include_archived=False).filter(is_stale=True)


def collateral_versions(*, collateral: Collateral) -> QuerySet[CollateralVersion]:
    return collateral.versions.select_related("uploaded_by").order_by("-number")


def collateral_shares_for_user(*, user, collateral: Collateral | None = None) -> QuerySet[CollateralShare]:
    views = CollateralView.objects.filter(share=OuterRef("pk")).order_by().values("share")
    qs = CollateralShare.objects.select_related("collateral", "lead", "shared_by").annotate(
        view_count=Coalesce(Subquery(views.annotate(n=Count("pk")).values("n")), 0)
    )
    if collateral is not None:
        qs = qs.filter(collateral=collateral)
    if reads_all(user):
        return qs
    if is_rep(user):
        return qs.filter(shared_by=user)
    return qs.none()


def feedback_list_for_user(*, user) -> QuerySet[CustomerFeedback]:
    qs = CustomerFeedback.objects.select_related("lead", "campaign", "entered_by")
    if reads_all(user):
        return qs
    if is_rep(user):
        return qs.filter(lead__owner=user)
    return qs.none()


def lead_outcome_deals(*, since=None, lead_ids=None) -> list[DealInput]:
    """Won and lost outcomes as sales reported them to marketing (``leads`` history), in the
    plain deal shape the influence services take: marketing pages use these because they
    cannot read ``crm`` deals. Amounts are unknown here (0); deal ids are transition ids."""
    qs = LeadTransition.objects.filter(outcome__in=[LeadOutcome.WON, LeadOutcome.LOST])
    if since is not None:
        qs = qs.filter(at__gte=since)
    if lead_ids is not None:
        qs = qs.filter(lead_id__in=lead_ids)
    return [
        DealInput(deal_id=pk, lead_id=lead_id, closed_at=at, won=(outcome == LeadOutcome.WON))
        for pk, lead_id, at, outcome in qs.order_by("at", "pk").values_list("pk", "lead_id", "at", "outcome")
    ]


def campaign_outcome_influence(*, campaign: Campaign, model: str) -> dict:
    """This campaign's credit for the won and lost outcomes of its members (``leads``
    history), under ``model``. Other campaigns' touches count too, so first and last touch
    really compete. Used by the marketer page and the API."""
    from .influence import campaign_influence

    member_leads = CampaignMember.objects.filter(campaign=campaign).values("lead_id")
    outcomes = lead_outcome_deals(lead_ids=member_leads)
    won = campaign_influence(model=model, deals=[d for d in outcomes if d.won])
    lost = campaign_influence(model=model, deals=[d for d in outcomes if not d.won])
    mine_won, mine_lost = won.by_campaign.get(campaign.pk), lost.by_campaign.get(campaign.pk)
    return {
        "model": model,
        "won_outcomes": len(won.by_deal),
        "won_touched": mine_won.deals if mine_won else 0,
        "won_credit": mine_won.weight if mine_won else 0.0,
        "lost_outcomes": len(lost.by_deal),
        "lost_credit": mine_lost.weight if mine_lost else 0.0,
        "untouched": len(won.untouched_deal_ids) + len(lost.untouched_deal_ids),
    }


def _outcome_count(reason_q: Q):
    """Per collateral row: outcomes (``reason_q``) of leads who were sent the item before it."""
    shared_before = CollateralShare.objects.filter(
        collateral_id=OuterRef(OuterRef("pk")), lead_id=OuterRef("lead_id"), shared_at__lt=OuterRef("at")
    )
    outcomes = (
        LeadTransition.objects.filter(reason_q)
        .filter(lead_id__in=CollateralShare.objects.filter(collateral_id=OuterRef(OuterRef("pk"))).values("lead_id"))
        .filter(Exists(shared_before))
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return Coalesce(Subquery(outcomes, output_field=IntegerField()), 0)


WON_Q = Q(outcome=LeadOutcome.WON)
LOST_Q = Q(outcome=LeadOutcome.LOST)


def collateral_with_outcome_usage(qs: QuerySet[Collateral]) -> QuerySet[Collateral]:
    """Annotate ``won_with`` and ``lost_with``: won and lost outcomes (as sales reported them
    to marketing) of leads who were sent the item before the outcome. Still one query."""
    return qs.annotate(won_with=_outcome_count(WON_Q), lost_with=_outcome_count(LOST_Q))


def outcome_totals() -> tuple[int, int]:
    """(closed, won) outcomes overall, for the 'win rate when not used' comparison."""
    totals = LeadTransition.objects.aggregate(won=Count("pk", filter=WON_Q), lost=Count("pk", filter=LOST_Q))
    return totals["won"] + totals["lost"], totals["won"]


def attach_win_rates(items, *, totals: tuple[int, int]) -> None:
    """Set ``deals_influenced``, ``win_rate_used`` and ``win_rate_not_used`` on annotated rows."""
    closed, won = totals
    for item in items:
        item.deals_influenced = item.won_with + item.lost_with
        item.win_rate_used = item.won_with / item.deals_influenced if item.deals_influenced else None
        others = closed - item.deals_influenced
        item.win_rate_not_used = (won - item.won_with) / others if others > 0 else None
