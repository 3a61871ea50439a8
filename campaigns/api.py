"""The only surface of `campaigns` that other apps import (``crm`` builds the rep's lead page
and the revenue reports on it).

- ``collateral_suggestions(*, lead, objection_categories=(), limit=5)``: ranked, explained
  ``CollateralSuggestion`` objects (``.collateral``, ``.score``, ``.reasons``).
- ``collateral_share(*, collateral_id, lead_id, actor) -> CollateralShare``; the tracked link
  is ``collateral_link_path(share)``.
- ``campaign_influence(*, model, deals)`` and ``collateral_deal_usage(*, deals)`` take deals as
  plain values (see ``campaigns.influence``), because ``campaigns`` cannot read ``crm``.
- ``feedback_record(...)``: a rep enters a customer's 0-10 rating and comment.
"""

from django.urls import reverse

from .influence import (
    INFLUENCE_MODELS,
    CampaignInfluence,
    CollateralDealUsage,
    DealInput,
    InfluenceCredit,
    InfluenceResult,
    campaign_influence,
    collateral_deal_usage,
)
from .models import (
    CUSTOMER_CAMPAIGN_KINDS,
    Campaign,
    CampaignKind,
    CampaignMember,
    Collateral,
    CollateralKind,
    CollateralShare,
    CollateralView,
    CustomerFeedback,
    FeedbackSource,
    ObjectionCategory,
)
from .privacy import privacy_campaigns_erase, privacy_campaigns_export
from .services.collateral import collateral_share, collateral_share_revoke
from .services.feedback import feedback_record
from .signals import CAMPAIGN_EVENTS, campaign_events, collateral_viewed
from .suggestions import CollateralSuggestion, collateral_suggestions


def collateral_link_path(share: CollateralShare) -> str:
    """The tracked link of a share, as a path (``/c/<token>/``)."""
    return reverse("campaigns:collateral-link", args=[share.token])


__all__ = [
    "privacy_campaigns_erase",
    "privacy_campaigns_export",
    "CAMPAIGN_EVENTS",
    "CUSTOMER_CAMPAIGN_KINDS",
    "INFLUENCE_MODELS",
    "Campaign",
    "CampaignInfluence",
    "CampaignKind",
    "CampaignMember",
    "Collateral",
    "CollateralDealUsage",
    "CollateralKind",
    "CollateralShare",
    "CollateralSuggestion",
    "CollateralView",
    "CustomerFeedback",
    "DealInput",
    "FeedbackSource",
    "InfluenceCredit",
    "InfluenceResult",
    "ObjectionCategory",
    "campaign_events",
    "collateral_viewed",
    "campaign_influence",
    "collateral_deal_usage",
    "collateral_link_path",
    "collateral_share",
    "collateral_share_revoke",
    "collateral_suggestions",
    "feedback_record",
]
