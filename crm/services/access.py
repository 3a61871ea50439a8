"""Who may act on which sales rows: the checks every sales service runs first.

A rep acts only on their own leads and deals; another rep's row is reported exactly like a
row that does not exist ("not found"), so ids cannot be probed. Managers act on all sales
rows. Marketing reads outcomes in aggregate but never logs calls or closes deals.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from config.roles import is_manager, is_rep
from leads.api import Lead

from ..models import Contact, Deal
from ..selectors import contact_visible_q, deal_visible_q, lead_visible_q


def ensure_sales_actor(actor, *, action: str) -> None:
    if actor is None or not (is_rep(actor) or is_manager(actor)):
        raise PermissionDenied(f"Only sales reps and managers can {action}.")


def lead_for_actor(*, actor, lead_id, field: str = "lead_id", lock: bool = False) -> Lead:
    qs = Lead.objects.filter(lead_visible_q(actor))
    if lock:
        qs = qs.select_for_update()
    lead = qs.filter(pk=lead_id).first() if _is_id(lead_id) else None
    if lead is None:
        raise ValidationError({field: f"Lead {lead_id} not found."}, code="not_found")
    return lead


def contact_for_actor(*, actor, contact_id, field: str = "contact_id") -> Contact:
    contact = (
        Contact.objects.filter(contact_visible_q(actor)).select_related("account").filter(pk=contact_id).first()
        if _is_id(contact_id)
        else None
    )
    if contact is None:
        raise ValidationError({field: f"Contact {contact_id} not found."}, code="not_found")
    return contact


def deal_for_actor(*, actor, deal_id, field: str = "deal_id", lock: bool = False) -> Deal:
    qs = Deal.objects.filter(deal_visible_q(actor))
    if lock:
        qs = qs.select_for_update()
    deal = qs.filter(pk=deal_id).first() if _is_id(deal_id) else None
    if deal is None:
        raise ValidationError({field: f"Deal {deal_id} not found."}, code="not_found")
    return deal


def _is_id(value) -> bool:
    try:
        return int(value) > 0
    except (TypeError, ValueError):
        return False
