"""The only surface of `campaigns` that other apps import (``crm`` builds the rep's lead page
and the revenue reports on it)."""

from .models import (
    CUSTOMER_CAMPAIGN_KINDS,
    Campaign,
    CampaignKind,
    CampaignMember,
    Collateral,
    CollateralShare,
    CollateralView,
    CustomerFeedback,
    ObjectionCategory,
)
from .services.collateral import collateral_share, collateral_share_revoke
from .suggestions import CollateralSuggestion, collateral_suggestions

__all__ = [
    "CUSTOMER_CAMPAIGN_KINDS",
    "Campaign",
    "CampaignKind",
    "CampaignMember",
    "Collateral",
    "CollateralShare",
    "CollateralSuggestion",
    "CollateralView",
    "CustomerFeedback",
    "ObjectionCategory",
    "collateral_share",
    "collateral_share_revoke",
    "collateral_suggestions",
]
