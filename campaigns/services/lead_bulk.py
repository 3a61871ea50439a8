"""Marketing's bulk "add to campaign" from the lead list."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from leads.api import MAX_BULK, Lead

from .access import ensure_marketer
from .campaigns import MembersAdded, _ensure_open, _get_campaign, members_insert


def campaign_members_add_leads(*, campaign_id, lead_ids, actor, at=None) -> MembersAdded:
    """Add the chosen leads to a campaign in one ``INSERT ... SELECT``; leads outside its
    audience (erased, do-not-contact, no opt-in for email, not customers for loyalty and
    surveys), leads already in it and ids of no lead are skipped, each counted per reason."""
    ensure_marketer(actor, action="add campaign members")
    try:
        ids = sorted({int(i) for i in lead_ids})
    except (TypeError, ValueError):
        raise ValidationError({"lead_ids": "Lead ids must be whole numbers."}) from None
    if not ids:
        raise ValidationError({"lead_ids": "Choose at least one lead."})
    if len(ids) > MAX_BULK or any(not 0 < i <= 2**31 - 1 for i in ids):
        raise ValidationError({"lead_ids": f"Choose at most {MAX_BULK} existing leads."})
    campaign = _get_campaign(campaign_id)
    _ensure_open(campaign)
    result = members_insert(campaign=campaign, candidates=Lead.objects.filter(pk__in=ids), at=at or timezone.now())
    found = result.added + result.skipped_total - result.skipped.get("not_found", 0)
    if found < len(ids):
        result = MembersAdded(added=result.added, skipped={**result.skipped, "not_found": len(ids) - found})
    return result
