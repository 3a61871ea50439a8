"""What `campaigns` holds about one person (memberships, collateral shares and their views,
feedback), for the privacy app's subject access export and erasure."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import CampaignMember, CollateralShare, CollateralView, CustomerFeedback


def privacy_campaigns_export(lead_id: int) -> dict:
    shares = list(
        CollateralShare.objects.filter(lead_id=lead_id)
        .order_by("shared_at", "id")
        .values("id", "collateral__title", "shared_by__username", "shared_at", "revoked_at")
    )
    views: dict[int, list] = {}
    for view in (
        CollateralView.objects.filter(share__lead_id=lead_id)
        .order_by("viewed_at", "id")
        .values("share_id", "viewed_at", "user_agent")
    ):
        views.setdefault(view.pop("share_id"), []).append(view)
    for share in shares:
        share["views"] = views.get(share.pop("id"), [])
    return {
        "campaign_memberships": list(
            CampaignMember.objects.filter(lead_id=lead_id)
            .order_by("added_at", "id")
            .values("campaign__name", "campaign__kind", "status", "added_at", "responded_at")
        ),
        "collateral_shares": shares,
        "feedback": list(
            CustomerFeedback.objects.filter(lead_id=lead_id)
            .order_by("created_at", "id")
            .values("campaign__name", "rating", "comment", "source", "entered_by__username", "created_at")
        ),
    }


def privacy_campaigns_erase(lead_id: int, *, at=None) -> dict[str, int]:
    """Keep memberships, shares, views and ratings (the campaign, collateral and experience
    reports count them); remove feedback comments and view user agents, and revoke the
    person's open share links."""
    at = at or timezone.now()
    with transaction.atomic():
        return {
            "feedback": CustomerFeedback.objects.filter(lead_id=lead_id).exclude(comment="").update(comment=""),
            "collateral_views": CollateralView.objects.filter(share__lead_id=lead_id)
            .exclude(user_agent="")
            .update(user_agent=""),
            "collateral_shares": CollateralShare.objects.filter(lead_id=lead_id, revoked_at__isnull=True).update(
                revoked_at=at
            ),
        }
