"""Who may act on which sales rows: the checks every sales service runs first.

A rep acts only on their own leads and deals; another rep's row is reported exactly like a
row that does not exist ("not found"), so ids cannot be probed. Managers act on all sales
rows. Marketing reads outcomes in aggregate but never logs calls or closes deals.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from config.roles import is_manager, is_rep
from leads.api import Lead

from ..locking import SalesLocks
from ..models import Contact, Deal
from ..selectors import contact_visible_q, deal_visible_q, lead_visible_q


def ensure_sales_actor(actor, *, action: str) -> None:
    if actor is None or not (is_rep(actor) or is_manager(actor)):
        raise PermissionDenied(f"Only sales reps and managers can {action}.")


def lead_for_actor(
    *, actor, lead_id, field: str = "lead_id", lock: bool = False, locks: SalesLocks | None = None
) -> Lead:
    """The lead if the actor may see it, else "not found" on ``field``. With ``lock`` the row
    is locked through ``locks`` (the crm lock order: the lead comes first) and the visibility
    re-checked under the lock."""
    visible = Lead.objects.filter(lead_visible_q(actor))
    row = _visible_row(visible, pk=lead_id, field=field, label="Lead")
    if not lock:
        return row
    locked = (locks or SalesLocks()).lead(row.pk)
    if locked is None or not visible.filter(pk=row.pk).exists():
        raise _not_found(field, "Lead")
    return locked


def contact_for_actor(*, actor, contact_id, field: str = "contact_id") -> Contact:
    qs = Contact.objects.filter(contact_visible_q(actor)).select_related("account")
    return _visible_row(qs, pk=contact_id, field=field, label="Contact")


def deal_for_actor(
    *, actor, deal_id, field: str = "deal_id", lock: bool = False, locks: SalesLocks | None = None
) -> Deal:
    """The deal if the actor may see it, else "not found"; with ``lock`` locked through
    ``locks`` (after the deal's lead and assignments, when the caller needs those)."""
    visible = Deal.objects.filter(deal_visible_q(actor))
    if not lock:
        return _visible_row(visible, pk=deal_id, field=field, label="Deal")
    row = (locks or SalesLocks()).deal(visible, deal_id) if _is_id(deal_id) else None
    if row is None:
        raise _not_found(field, "Deal")
    return row


def _visible_row(qs, *, pk, field: str, label: str, lock: bool = False):
    """The row with ``pk`` among those the actor may see, or a "not found" error on ``field``
    (the same for a row that is not theirs as for one that does not exist; the message names
    no id, since users never see internal ids). ``lock`` locks that one row only (an account
    or a contact edited on its own; leads and deals are locked through ``SalesLocks``)."""
    if lock:
        qs = qs.select_for_update(of=("self",))
    row = qs.filter(pk=pk).first() if _is_id(pk) else None
    if row is None:
        raise _not_found(field, label)
    return row


def _not_found(field: str, label: str) -> ValidationError:
    return ValidationError({field: f"{label} not found (it may have been moved to someone else)."}, code="not_found")


def _is_id(value) -> bool:
    try:
        return int(value) > 0
    except (TypeError, ValueError):
        return False
