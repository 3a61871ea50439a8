"""Marketing's bulk "add to campaign" from the lead list."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import CharField, DateTimeField, Exists, IntegerField, OuterRef, Value
from django.utils import timezone

from leads.api import MAX_BULK, Lead

from ..models import CampaignMember, MemberStatus
from .access import ensure_marketer
from .campaigns import _ensure_open, _get_campaign, campaign_audience_q


def campaign_members_add_leads(*, campaign_id, lead_ids, actor, at=None) -> tuple[int, int]:
    """Add the chosen leads to a campaign in one ``INSERT ... SELECT``; leads outside its
    audience (do-not-contact, no opt-in for email, not customers for loyalty and surveys) and
    leads already in it are skipped. Returns ``(added, skipped)``."""
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
    at = at or timezone.now()
    already = CampaignMember.objects.filter(campaign_id=campaign.pk, lead_id=OuterRef("pk"))
    rows = (
        Lead.objects.filter(pk__in=ids)
        .filter(campaign_audience_q(campaign))
        .filter(~Exists(already))
        .order_by()
        .annotate(
            _campaign=Value(campaign.pk, output_field=IntegerField()),
            _status=Value(MemberStatus.TARGETED.value, output_field=CharField()),
            _added=Value(at, output_field=DateTimeField()),
        )
        .values_list("_campaign", "pk", "_status", "_added")
    )
    select_sql, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(CampaignMember._meta.db_table)
    sql = (
        f"INSERT INTO {table} (campaign_id, lead_id, status, added_at) "
        f"{select_sql} ON CONFLICT (campaign_id, lead_id) DO NOTHING"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        added = max(cursor.rowcount, 0)
    return added, len(ids) - added
