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
    return _visible_row(Lead.objects.filter(lead_visible_q(actor)), pk=lead_id, field=field, label="Lead", lock=lock)


def contact_for_actor(*, actor, contact_id, field: str = "contact_id") -> Contact:
    qs = Contact.objects.filter(contact_visible_q(actor)).select_related("account")
    return _visible_row(qs, pk=contact_id, field=field, label="Contact")


def deal_for_actor(*, actor, deal_id, field: str = "deal_id", lock: bool = False) -> Deal:
    return _visible_row(Deal.objects.filter(deal_visible_q(actor)), pk=deal_id, field=field, label="Deal", lock=lock)


def _visible_row(qs, *, pk, field: str, label: str, lock: bool = False):
    """The row with ``pk`` among those the actor may see, or a "not found" error on ``field``
    (the same for a row that is not theirs as for one that does not exist; the message names
    no id, since users never see internal ids)."""
    if lock:
        qs = qs.select_for_update()
    row = qs.filter(pk=pk).first() if _is_id(pk) else None
    if row is None:
        raise ValidationError({field: f"{label} not found (it may have been moved to someone else)."}, code="not_found")
    return row


def _is_id(value) -> bool:
    try:
        return int(value) > 0
    except (TypeError, ValueError):
        return False
