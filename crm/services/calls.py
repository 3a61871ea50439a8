"""Logging calls: the one write a rep makes many times a day."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.api import Collateral, ObjectionCategory
from config.text_limits import text_length_errors
from leads import api as leads_api
from leads.api import LifecycleStage

from ..locking import SalesLocks
from ..models import (
    CONNECTED_OUTCOMES,
    OPEN_FOR_REP_STATUSES,
    UNANSWERED_OUTCOMES,
    Account,
    Assignment,
    AssignmentStatus,
    Call,
    CallOutcome,
    FollowUp,
    FollowUpKind,
    ObjectionNote,
)
from ..signals import sales_events_announce
from .access import contact_for_actor, ensure_sales_actor, lead_for_actor
from .handoff import queue_fill_on_commit

# A form posted "now" reaches the server a little later, and clocks drift.
CLOCK_TOLERANCE = datetime.timedelta(minutes=2)
MAX_DURATION_SECONDS = 24 * 60 * 60
# A customer call with no next step puts the next check-in this far out.
CHECK_IN_INTERVAL = datetime.timedelta(days=90)
CALLABLE_STAGES = (
    LifecycleStage.HANDED_OFF,
    LifecycleStage.SAL,
    LifecycleStage.OPPORTUNITY,
    LifecycleStage.CUSTOMER,
)
# The no-contact cadence sends back only leads not yet in a deal.
CADENCE_STAGES = (LifecycleStage.HANDED_OFF, LifecycleStage.SAL)


def call_log(
    *,
    rep,
    outcome: str,
    duration_seconds: int = 0,
    notes: str = "",
    lead_id: int | None = None,
    contact_id: int | None = None,
    called_at: datetime.datetime | None = None,
    next_step_at: datetime.datetime | None = None,
    objections: Iterable[dict] = (),
) -> Call:
    """Log one call by ``rep`` on a lead or on a customer's contact, in one transaction.

    ``objections`` is a list of ``{"category", "said", "response", "overcome",
    "collateral_id"}``. Validates everything before writing anything (errors name the field:
    ``called_at``, ``duration_seconds``, ``next_step_at``, ``outcome``,
    ``objections.<i>.category`` ...). Another rep's lead or contact is "not found".

    Side effects: the first call on an assignment stamps its ``first_touch_at``; open
    follow-ups of the lead that are due are marked done; ``next_step_at`` creates a follow-up
    (a callback when the outcome was "callback requested", a check-in for a customer); a call
    on a customer moves the account's next check-in (to the next step, else 90 days on);
    after the queue's ``max_attempts`` unanswered calls with no connected one, the lead goes
    back to marketing as RECYCLED (reason "no contact") and the assignment is closed.
    """
    ensure_sales_actor(rep, action="log calls")
    now = timezone.now()
    called_at = called_at or now
    errors: dict[str, list[str]] = {}

    if outcome not in CallOutcome.values:
        errors["outcome"] = [f"'{outcome}' is not a call outcome; choose one of: {', '.join(CallOutcome.values)}."]
    if called_at > now + CLOCK_TOLERANCE:
        errors["called_at"] = ["A call cannot be logged in the future."]
    try:
        duration_seconds = int(duration_seconds)
    except (TypeError, ValueError):
        errors["duration_seconds"] = ["Enter the duration as a whole number of seconds."]
    else:
        if duration_seconds < 0:
            errors["duration_seconds"] = ["The duration cannot be negative."]
        elif duration_seconds > MAX_DURATION_SECONDS:
            errors["duration_seconds"] = ["The duration cannot be longer than a day."]
    if next_step_at is not None and next_step_at < now - CLOCK_TOLERANCE:
        errors["next_step_at"] = ["The next step cannot be in the past."]
    if lead_id is None and contact_id is None:
        errors["lead_id"] = ["Name the lead or the contact that was called."]
    errors.update(text_length_errors({"notes": notes}))

    objection_rows = []
    collateral_ids = set()
    for index, raw in enumerate(objections or ()):
        row = dict(raw or {})
        category = row.get("category")
        if category not in ObjectionCategory.values:
            errors[f"objections.{index}.category"] = [
                f"'{category}' is not an objection category; choose one of: {', '.join(ObjectionCategory.values)}."
            ]
        if row.get("collateral_id") not in (None, ""):
            try:
                row["collateral_id"] = int(row["collateral_id"])
            except (TypeError, ValueError):
                errors[f"objections.{index}.collateral_id"] = ["Enter a collateral id."]
                row["collateral_id"] = None
            else:
                collateral_ids.add(row["collateral_id"])
        errors.update(text_length_errors({f"objections.{index}.{key}": row.get(key) for key in ("said", "response")}))
        objection_rows.append(row)
    if collateral_ids:
        known = set(Collateral.objects.filter(pk__in=collateral_ids).values_list("pk", flat=True))
        for index, row in enumerate(objection_rows):
            if row.get("collateral_id") and row["collateral_id"] not in known:
                errors[f"objections.{index}.collateral_id"] = ["Collateral not found."]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        locks = SalesLocks()  # the lead, then its assignment, then the account
        lead = contact = None
        if lead_id is not None:
            lead = lead_for_actor(actor=rep, lead_id=lead_id, lock=True, locks=locks)
            if lead.stage not in CALLABLE_STAGES:
                raise ValidationError({"lead_id": f"This lead is {LifecycleStage(lead.stage).label}, not with sales."})
            contact = getattr(lead, "contact", None)
        if contact_id is not None:
            contact = contact_for_actor(actor=rep, contact_id=contact_id)
            if lead is not None and contact.lead_id not in (None, lead.pk):
                raise ValidationError({"contact_id": "This contact belongs to another lead."})

        assignment = None
        if lead is not None:
            open_ones = locks.assignments(
                Assignment.objects.filter(lead=lead, status__in=OPEN_FOR_REP_STATUSES).select_related("queue")
            )
            assignment = open_ones[0] if open_ones else None

        call = Call.objects.create(
            rep=rep,
            lead=lead,
            contact=contact,
            assignment=assignment,
            outcome=outcome,
            duration_seconds=duration_seconds,
            notes=notes or "",
            called_at=called_at,
            next_step_at=next_step_at,
        )
        ObjectionNote.objects.bulk_create(
            [
                ObjectionNote(
                    call=call,
                    lead=lead,
                    category=row["category"],
                    said=row.get("said") or "",
                    response=row.get("response") or "",
                    overcome=bool(row.get("overcome")),
                    collateral_id=row.get("collateral_id") or None,
                    created_at=now,
                )
                for row in objection_rows
            ]
        )
        sales_events_announce(
            "call.logged",
            [
                {
                    "call": call.pk,
                    "rep": rep.pk,
                    "lead": lead.pk if lead is not None else None,
                    "contact": contact.pk if contact is not None else None,
                    "outcome": outcome,
                    "duration_seconds": duration_seconds,
                    "called_at": called_at.isoformat(),
                    "objections": [row["category"] for row in objection_rows],
                }
            ],
        )

        if assignment is not None and assignment.first_touch_at is None:
            assignment.first_touch_at = called_at
            assignment.save(update_fields=["first_touch_at"])

        # The call answers whatever was due for this lead or contact.
        due = FollowUp.objects.open().filter(due_at__lte=now)
        due = due.filter(lead=lead) if lead is not None else due.filter(contact=contact)
        due.update(done_at=now)

        is_customer = (lead is not None and lead.stage == LifecycleStage.CUSTOMER) or (
            lead is None and contact is not None and contact.account.is_customer
        )
        if next_step_at is not None:
            if outcome == CallOutcome.CALLBACK_REQUESTED:
                kind = FollowUpKind.CALLBACK
            elif is_customer:
                kind = FollowUpKind.CHECK_IN
            else:
                kind = FollowUpKind.FOLLOW_UP
            FollowUp.objects.create(rep=rep, lead=lead, contact=contact, call=call, kind=kind, due_at=next_step_at)
        if is_customer and contact is not None:
            next_check_in = timezone.localdate(next_step_at or now + CHECK_IN_INTERVAL)
            locks.account(contact.account_id)
            Account.objects.filter(pk=contact.account_id).update(next_check_in_on=next_check_in)

        if (
            assignment is not None
            and outcome in UNANSWERED_OUTCOMES
            and lead.stage in CADENCE_STAGES
            and _cadence_exhausted(assignment)
        ):
            leads_api.lead_recycled_no_contact(
                lead_id=lead.pk,
                actor=rep,
                note=f"{assignment.queue.max_attempts} unanswered calls.",
                at=now,
            )
            assignment.status = AssignmentStatus.CLOSED
            assignment.closed_at = now
            assignment.save(update_fields=["status", "closed_at"])
            queue_fill_on_commit(assignment.queue_id)
            FollowUp.objects.open().filter(lead=lead).update(done_at=now)
    return call


def _cadence_exhausted(assignment: Assignment) -> bool:
    calls = Call.objects.filter(assignment=assignment)
    if calls.filter(outcome__in=CONNECTED_OUTCOMES).exists():
        return False
    return calls.filter(outcome__in=UNANSWERED_OUTCOMES).count() >= assignment.queue.max_attempts
