"""The lead lifecycle: which stage may follow which, and the one service that moves a lead.

NEW -> ENGAGED -> MQL --hand-off--> HANDED_OFF --accept--> SAL -> OPPORTUNITY -> CUSTOMER
                   ^                    |  reject (reason)           |  lost (reason)
                   +---- RECYCLED <-----+----------------------------+
DISQUALIFIED (from any marketing stage)
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from config.text_limits import text_lengths_check

from .models import OUTCOME_STAGE, Lead, LeadOutcome, LeadTransition, LifecycleStage
from .signals import lead_events_announce

S = LifecycleStage

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ENGAGED, S.MQL, S.DISQUALIFIED}),
    S.ENGAGED: frozenset({S.MQL, S.DISQUALIFIED}),
    S.MQL: frozenset({S.HANDED_OFF, S.ENGAGED, S.DISQUALIFIED}),
    S.HANDED_OFF: frozenset({S.SAL, S.RECYCLED}),
    S.SAL: frozenset({S.OPPORTUNITY, S.RECYCLED}),
    S.OPPORTUNITY: frozenset({S.CUSTOMER, S.RECYCLED}),
    S.CUSTOMER: frozenset(),
    S.RECYCLED: frozenset({S.ENGAGED, S.MQL, S.DISQUALIFIED}),
    S.DISQUALIFIED: frozenset(),
}

# Moves that must say why: sales sending a lead back, and marketing disqualifying it.
REASON_REQUIRED: frozenset[str] = frozenset({S.RECYCLED, S.DISQUALIFIED})


class IllegalTransition(ValidationError):
    """A stage change the lifecycle does not allow."""


def _check_outcome(to_stage: str, outcome: str, outcome_reason: str) -> None:
    if not outcome:
        if outcome_reason:
            raise ValidationError({"outcome_reason": "An outcome reason needs a rejected or lost outcome."})
        return
    if outcome not in LeadOutcome.values:
        raise ValidationError({"outcome": f"'{outcome}' is not a sales outcome."})
    if OUTCOME_STAGE[outcome] != to_stage:
        raise ValidationError(
            {
                "outcome": f"A {LeadOutcome(outcome).label.lower()} outcome moves a lead to "
                f"{S(OUTCOME_STAGE[outcome]).label}, not {S(to_stage).label}."
            }
        )
    if outcome_reason and outcome not in (LeadOutcome.REJECTED, LeadOutcome.LOST):
        raise ValidationError({"outcome_reason": "Only a rejected or lost outcome has a reason."})


def can_transition(from_stage: str, to_stage: str) -> bool:
    return to_stage in ALLOWED_TRANSITIONS.get(from_stage, frozenset())


def lead_transition(
    *,
    lead_id: int,
    to_stage: str,
    actor=None,
    reason: str = "",
    note: str = "",
    at=None,
    expected_from: str | None = None,
    outcome: str = "",
    outcome_reason: str = "",
) -> Lead:
    """Move one lead to ``to_stage`` and record the move.

    Locks the lead row for the rest of the caller's transaction, so two concurrent moves of
    one lead are serialised and the second sees the first's result. Refuses a move the
    lifecycle does not allow (``IllegalTransition``, naming both stages and what is allowed),
    a move to the same stage, a move to RECYCLED or DISQUALIFIED without a reason, and an
    ``outcome`` (``LeadOutcome``: what sales reported, with ``outcome_reason`` for rejected and
    lost) that does not lead to ``to_stage``. With
    ``expected_from`` the move is refused unless the lead is still in that stage, which lets
    callers act on what they read earlier without overwriting a newer change.

    Side effects: updates ``stage``, ``stage_changed_at`` and, on MQL, ``qualified_at``;
    writes one ``LeadTransition``.
    """
    if to_stage not in S.values:
        raise ValidationError({"to_stage": f"'{to_stage}' is not a lifecycle stage."})
    text_lengths_check({"note": note})
    _check_outcome(to_stage, outcome, outcome_reason)
    at = at or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        from_stage = lead.stage
        if expected_from is not None and from_stage != expected_from:
            raise IllegalTransition(
                f"This lead is {S(from_stage).label}, not {S(expected_from).label}; it was changed by someone else.",
                code="stale",
            )
        if not can_transition(from_stage, to_stage):
            allowed = ", ".join(sorted(S(s).label for s in ALLOWED_TRANSITIONS[from_stage])) or "none"
            raise IllegalTransition(
                f"Cannot move this lead from {S(from_stage).label} to {S(to_stage).label}; "
                f"allowed next stages: {allowed}.",
                code="illegal_transition",
            )
        if to_stage in REASON_REQUIRED and not reason:
            raise ValidationError({"reason": f"A reason is required to move a lead to {S(to_stage).label}."})
        lead.stage = to_stage
        lead.stage_changed_at = at
        update_fields = ["stage", "stage_changed_at", "updated_at"]
        if to_stage == S.MQL:
            lead.qualified_at = at
            update_fields.append("qualified_at")
        lead.save(update_fields=update_fields)
        LeadTransition.objects.create(
            lead=lead,
            from_stage=from_stage,
            to_stage=to_stage,
            actor=actor,
            reason=reason,
            outcome=outcome,
            outcome_reason=outcome_reason,
            note=note,
            at=at,
        )
        _announce(to_stage, [_stage_payload(lead.pk, from_stage, to_stage, at, reason, lead.owner_id)])
    return lead


def leads_transition(
    *,
    moves: dict[int, dict],
    from_stage: str,
    to_stage: str,
    actor=None,
    reason: str = "",
    at=None,
) -> list[int]:
    """Move many leads from ``from_stage`` to ``to_stage`` at once: the set-based form of
    ``lead_transition`` for batch work (the hand-off routes a hundred leads per transaction).

    ``moves`` maps lead id -> extra column values written with the move (e.g. ``{"owner_id":
    7}``; an empty dict for none). Locks the rows still in ``from_stage`` (one SELECT ... FOR
    UPDATE), updates them in one statement and writes one ``LeadTransition`` each (one
    insert). Leads no longer in ``from_stage`` are left untouched: the move is per lead what
    ``lead_transition(expected_from=from_stage)`` does, without raising. Returns the ids
    moved, in ascending order.
    """
    if not can_transition(from_stage, to_stage):
        raise IllegalTransition(
            f"Cannot move leads from {S(from_stage).label} to {S(to_stage).label}.", code="illegal_transition"
        )
    if to_stage in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": f"A reason is required to move a lead to {S(to_stage).label}."})
    if not moves:
        return []
    at = at or timezone.now()
    with transaction.atomic():
        moved = list(
            Lead.objects.select_for_update()
            .filter(pk__in=list(moves), stage=from_stage)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not moved:
            return []
        values = {"stage": to_stage, "stage_changed_at": at, "updated_at": at}
        if to_stage == S.MQL:
            values["qualified_at"] = at
        for column in sorted({column for lead_id in moved for column in moves[lead_id]}):
            field = Lead._meta.get_field(column)
            values[field.name] = Case(
                *(
                    When(pk=lead_id, then=Value(moves[lead_id][column]))
                    for lead_id in moved
                    if column in moves[lead_id]
                ),
                default=F(field.attname),
                output_field=field.target_field if field.is_relation else field,
            )
        Lead.objects.filter(pk__in=moved).update(**values)
        LeadTransition.objects.bulk_create(
            [
                LeadTransition(
                    lead_id=lead_id, from_stage=from_stage, to_stage=to_stage, actor=actor, reason=reason, at=at
                )
                for lead_id in moved
            ]
        )
        _announce(
            to_stage,
            [_stage_payload(i, from_stage, to_stage, at, reason, moves[i].get("owner_id")) for i in moved],
        )
    return moved


# The stage moves other systems hear about (webhooks), announced inside the move's transaction.
ANNOUNCED_STAGES = {S.MQL: "lead.qualified", S.HANDED_OFF: "lead.handed_off"}


def _stage_payload(lead_id, from_stage, to_stage, at, reason, owner_id) -> dict:
    return {
        "lead": lead_id,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "at": at.isoformat(),
        "reason": reason,
        "owner": owner_id,
    }


def _announce(to_stage: str, payloads: list[dict]) -> None:
    event = ANNOUNCED_STAGES.get(to_stage)
    if event:
        lead_events_announce(event, payloads)
