"""campaigns' part of a lead merge (``leads.merging.lead_merge``, registered in
``CampaignsConfig.ready``): memberships, collateral shares and feedback of the merged lead move
to the survivor, inside the merge's transaction (both leads locked).

A campaign both leads are members of keeps the survivor's membership, carried forward to the
further status and the earlier response of the two; a survey both answered keeps the
survivor's answer."""

from __future__ import annotations

from .models import CampaignMember, CollateralShare, CustomerFeedback, FeedbackSource, MemberStatus

_STATUS_RANK = {status: rank for rank, status in enumerate(MemberStatus.values)}


def campaigns_lead_merge(*, survivor, merged, at, actor=None) -> dict[str, int]:
    theirs = {m.campaign_id: m for m in CampaignMember.objects.filter(lead_id=merged.pk)}
    both = CampaignMember.objects.filter(lead_id=survivor.pk, campaign_id__in=list(theirs)).order_by("pk")
    for mine in both:
        other = theirs[mine.campaign_id]
        if _STATUS_RANK[other.status] > _STATUS_RANK[mine.status]:
            mine.status = other.status
        responses = [r for r in (mine.responded_at, other.responded_at) if r is not None]
        mine.responded_at = min(responses) if responses else None
        mine.added_at = min(mine.added_at, other.added_at)
        mine.save(update_fields=["status", "responded_at", "added_at"])
    shared = [m.campaign_id for m in both]
    answered = CustomerFeedback.objects.filter(
        lead_id=survivor.pk, source=FeedbackSource.SURVEY, campaign__isnull=False
    ).values("campaign_id")
    to_survivor = {"lead_id": survivor.pk}
    return {
        "memberships_already_there": CampaignMember.objects.filter(lead_id=merged.pk, campaign_id__in=shared).delete()[
            0
        ],
        "memberships": CampaignMember.objects.filter(lead_id=merged.pk).update(**to_survivor),
        "collateral_shares": CollateralShare.objects.filter(lead_id=merged.pk).update(**to_survivor),
        "feedback_already_there": CustomerFeedback.objects.filter(
            lead_id=merged.pk, source=FeedbackSource.SURVEY, campaign_id__in=answered
        ).delete()[0],
        "feedback": CustomerFeedback.objects.filter(lead_id=merged.pk).update(**to_survivor),
    }
