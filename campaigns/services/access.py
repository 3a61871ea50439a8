"""Who may do what in `campaigns`: marketing writes; reps read the library and share with
their own leads; managers read everything. A lead a rep does not own is reported exactly like
a lead that does not exist, so ids cannot be probed."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from config.roles import is_manager, is_marketer, is_rep
from leads.api import Lead


def ensure_marketer(actor, *, action: str) -> None:
    if actor is None or not is_marketer(actor):
        raise PermissionDenied(f"Only marketing can {action}.")


def lead_for_actor(*, actor, lead_id, field: str = "lead_id", lock: bool = False) -> Lead:
    """The lead with ``lead_id`` if ``actor`` may act on it: marketing and managers on any
    lead, a rep on the leads they own; otherwise 'not found' naming ``field``."""
    qs = Lead.objects.all()
    if actor is not None and not (is_marketer(actor) or is_manager(actor)):
        qs = qs.filter(owner=actor) if is_rep(actor) else qs.none()
    if lock:
        qs = qs.select_for_update()
    lead = qs.filter(pk=lead_id).first() if is_id(lead_id) else None
    if lead is None:
        raise ValidationError({field: "Lead not found (it may have been moved to someone else)."}, code="not_found")
    return lead


def is_id(value) -> bool:
    try:
        return int(value) > 0
    except (TypeError, ValueError):
        return False
