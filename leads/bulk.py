"""Marketing's bulk actions on chosen leads: mark do-not-contact, disqualify with a reason.

Both take at most ``MAX_BULK`` lead ids, lock the leads in id order, skip (and count) the
leads the action does not apply to, and return ``(done, skipped)``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .lifecycle import can_transition, lead_transition
from .locks import leads_lock
from .models import Lead, LifecycleStage

MAX_BULK = 500
DISQUALIFY_REASONS = {
    "bad_data": "Bad or fake data",
    "competitor": "Competitor",
    "not_a_fit": "Not a fit",
    "duplicate": "Duplicate",
    "do_not_contact": "Asked not to be contacted",
    "student": "Student or job seeker",
    "other": "Other",
}


def _ids(lead_ids) -> list[int]:
    try:
        ids = sorted({int(i) for i in lead_ids})
    except (TypeError, ValueError):
        raise ValidationError({"lead_ids": "Lead ids must be whole numbers."}) from None
    if not ids:
        raise ValidationError({"lead_ids": "Choose at least one lead."})
    if len(ids) > MAX_BULK:
        raise ValidationError({"lead_ids": f"At most {MAX_BULK} leads at once."})
    if any(i <= 0 or i > 2**31 - 1 for i in ids):
        raise ValidationError({"lead_ids": "Unknown lead id."})
    return ids


def leads_mark_do_not_contact(*, lead_ids, actor) -> tuple[int, int]:
    """Set ``do_not_contact`` (and ``do_not_call``) on the leads; those already marked are
    skipped. A lead marked so is never qualified or handed off again."""
    ids = _ids(lead_ids)
    with transaction.atomic():
        leads_lock(ids=ids)
        done = (
            Lead.objects.filter(pk__in=ids, do_not_contact=False)
            .order_by()
            .update(do_not_contact=True, do_not_call=True, updated_at=timezone.now())
        )
    return done, len(ids) - done


def leads_disqualify(*, lead_ids, reason: str, note: str = "", actor) -> tuple[int, int]:
    """Move each lead in a marketing stage to DISQUALIFIED with the reason (one of
    ``DISQUALIFY_REASONS``), each move recorded through the lifecycle service; leads with sales
    or already disqualified are skipped."""
    if reason not in DISQUALIFY_REASONS:
        raise ValidationError({"reason": f"Choose a reason: {', '.join(DISQUALIFY_REASONS)}."})
    if not isinstance(note, str) or "\x00" in note or len(note) > 2000:
        raise ValidationError({"note": "At most 2000 characters of text."})
    ids = _ids(lead_ids)
    done = 0
    with transaction.atomic():
        stages = {lead.pk: lead.stage for lead in leads_lock(ids=ids)}
        for lead_id in ids:
            stage = stages.get(lead_id)
            if stage is None or not can_transition(stage, LifecycleStage.DISQUALIFIED):
                continue
            lead_transition(
                lead_id=lead_id,
                to_stage=LifecycleStage.DISQUALIFIED,
                reason=f"disqualified:{reason}",
                note=note,
                actor=actor,
                expected_from=stage,
            )
            done += 1
    return done, len(ids) - done
