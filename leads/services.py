"""Writes to marketing data. Every function is keyword-only, atomic and validating."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .lifecycle import lead_transition, leads_transition
from .models import EngagementEvent, EngagementKind, Lead, LifecycleStage

S = LifecycleStage

# Reason codes written on LeadTransition when sales sends a lead back. Learned scoring and
# the reports read outcomes from these, never from sales tables.
REASON_REJECTED_PREFIX = "rejected:"
REASON_LOST_PREFIX = "lost:"
REASON_NO_CONTACT = "no_contact"
REASON_WON = "won"


def engagement_record(
    *, lead_id: int, kind: str, occurred_at=None, source_reference: str = "", points: float | None = None
) -> tuple[EngagementEvent, bool]:
    """Record one engagement event; a repeat of the same (lead, kind, source_reference) is
    returned as it is, not duplicated. Returns (event, created).

    A new event enqueues ``score_lead_task`` after commit (the lead is scored and, if it now
    qualifies, moved to MQL)."""
    if kind not in EngagementKind.values:
        from django.core.exceptions import ValidationError

        raise ValidationError({"kind": f"'{kind}' is not an engagement kind."})
    occurred_at = occurred_at or timezone.now()
    with transaction.atomic():
        if source_reference:
            existing = EngagementEvent.objects.filter(
                lead_id=lead_id, kind=kind, source_reference=source_reference
            ).first()
            if existing:
                return existing, False
        event = EngagementEvent.objects.create(
            lead_id=lead_id, kind=kind, occurred_at=occurred_at, source_reference=source_reference, points=points
        )
        # Only ever moves forward: a late-arriving old event does not make the lead look idle.
        Lead.objects.filter(pk=lead_id).filter(
            Q(last_engaged_at__isnull=True) | Q(last_engaged_at__lt=occurred_at)
        ).update(last_engaged_at=occurred_at)
        transaction.on_commit(lambda: _enqueue_score(lead_id))
    return event, True


def _enqueue_score(lead_id: int) -> None:
    from .tasks import score_lead_task

    score_lead_task.delay(lead_id)


# --- Outcomes reported by sales (through leads.api) ----------------------------------------


def lead_handed_off(*, lead_id: int, actor=None, owner=None, at=None) -> Lead:
    lead = lead_transition(lead_id=lead_id, to_stage=S.HANDED_OFF, actor=actor, reason="handed_off", at=at)
    if owner is not None:
        Lead.objects.filter(pk=lead_id).update(owner=owner)
        lead.owner = owner
    return lead


def lead_owner_set(*, lead_id: int, owner) -> None:
    """Sales moved a lead that is already with sales to another rep (a reassignment): the
    owner changes, the stage does not (it is not a lifecycle move)."""
    Lead.objects.filter(pk=lead_id).update(owner=owner, updated_at=timezone.now())


def leads_handed_off(*, owners: dict[int, int], actor=None, at=None) -> list[int]:
    """``lead_handed_off`` for a batch: lead id -> owner (user id). Leads still MQL move to
    HANDED_OFF with their owner in one UPDATE and one transition insert; the rest are left
    alone. Returns the ids moved."""
    return leads_transition(
        moves={lead_id: {"owner_id": owner_id} for lead_id, owner_id in owners.items()},
        from_stage=S.MQL,
        to_stage=S.HANDED_OFF,
        actor=actor,
        reason="handed_off",
        at=at,
    )


def lead_accepted_by_sales(*, lead_id: int, actor=None, at=None) -> Lead:
    return lead_transition(lead_id=lead_id, to_stage=S.SAL, actor=actor, reason="accepted", at=at)


def lead_rejected_by_sales(*, lead_id: int, reason: str, note: str = "", actor=None, at=None) -> Lead:
    """Sales sent the lead back: RECYCLED with reason ``rejected:<reason>``; the owner is cleared."""
    with transaction.atomic():
        lead = lead_transition(
            lead_id=lead_id,
            to_stage=S.RECYCLED,
            actor=actor,
            reason=f"{REASON_REJECTED_PREFIX}{reason}",
            note=note,
            at=at,
        )
        Lead.objects.filter(pk=lead_id).update(owner=None)
    return lead


def lead_recycled_no_contact(*, lead_id: int, actor=None, note: str = "", at=None) -> Lead:
    with transaction.atomic():
        lead = lead_transition(
            lead_id=lead_id, to_stage=S.RECYCLED, actor=actor, reason=REASON_NO_CONTACT, note=note, at=at
        )
        Lead.objects.filter(pk=lead_id).update(owner=None)
    return lead


def lead_converted_to_opportunity(*, lead_id: int, actor=None, at=None) -> Lead:
    return lead_transition(lead_id=lead_id, to_stage=S.OPPORTUNITY, actor=actor, reason="converted", at=at)


def lead_won(*, lead_id: int, actor=None, at=None) -> Lead:
    return lead_transition(lead_id=lead_id, to_stage=S.CUSTOMER, actor=actor, reason=REASON_WON, at=at)


def lead_lost(*, lead_id: int, reason: str, note: str = "", actor=None, at=None) -> Lead:
    with transaction.atomic():
        lead = lead_transition(
            lead_id=lead_id, to_stage=S.RECYCLED, actor=actor, reason=f"{REASON_LOST_PREFIX}{reason}", note=note, at=at
        )
        Lead.objects.filter(pk=lead_id).update(owner=None)
    return lead
