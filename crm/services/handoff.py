"""The hand-off: a qualified lead (MQL) becomes exactly one active assignment in a sales queue.

Invariants
- At most one active assignment (QUEUED, ASSIGNED, ACCEPTED) per lead. Three guards: the lead
  row lock taken first by every hand-off, a re-check for an active assignment under that lock,
  and the partial unique constraint ``assignment_one_active_per_lead`` as the last word (an
  IntegrityError there means someone else handed the lead off: success, not failure).
- A rep never holds more open assignments from a queue than their capacity: the choice is
  made under the rep's membership row lock (see ``crm.routing.RepPicker``).
- A lead whose company has an account owned by a rep goes to that rep.
- Do-not-call / do-not-contact leads are never handed off; a ``HandoffRefusal`` records why.
- Times are stamped when the work runs, never when it was enqueued.

Lock order, everywhere (``crm.locking``): lead rows, then assignment rows, then deals and
accounts, then membership rows. Rows found first (an assignment id, the overdue or waiting
assignments) are read without a lock, then locked in that order and re-checked.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.utils import timezone

from config.roles import SALES_REP, is_manager
from config.text_limits import text_lengths_check
from crm import enqueue, routing
from crm.business_hours import queue_sla_due
from crm.locking import SalesLocks
from crm.models import (
    OPEN_FOR_REP_STATUSES,
    Assignment,
    AssignmentStatus,
    HandoffRefusal,
    HandoffRefusalReason,
    QueueMembership,
    RejectReason,
    SalesQueue,
    SlaAction,
    SlaBreach,
)
from crm.selectors import duration_text
from crm.services.notifications import NotificationKind, notification_send, notifications_send
from crm.signals import sales_events_announce
from leads.api import (
    Lead,
    LifecycleStage,
    lead_accepted_by_sales,
    lead_handed_off,
    lead_owner_set,
    lead_recycled_no_contact,
    lead_rejected_by_sales,
    lead_score,
    leads_handed_off,
)

logger = logging.getLogger(__name__)

CALL_LIST_URL = "/calls/"

# The lead columns a hand-off reads (stage, contact flags, company for the account owner,
# name and e-mail for the rep's notification): a batch does not drag scores and JSON along.
HANDOFF_LEAD_FIELDS = (
    "id",
    "stage",
    "do_not_call",
    "do_not_contact",
    "company_domain",
    "first_name",
    "last_name",
    "email",
)


# --- the hand-off ---------------------------------------------------------------------------


def lead_handoff(*, lead_id: int) -> Assignment | None:
    """Hand one MQL to sales. Idempotent: safe under duplicate delivery, retries and
    concurrent workers.

    Returns the lead's active assignment (the one made now, or the one that already existed:
    "already handed off" is success), or None when the lead is not handed off: it does not
    exist, is not an MQL, may not be called (recorded as a ``HandoffRefusal``), or no queue
    takes it (the sweep retries it later).

    In one transaction: the assignment (ASSIGNED to a rep, or QUEUED when nobody in the queue
    has room), the lead's move to HANDED_OFF with the rep as owner, the rep's notification.
    The e-mail leaves after commit.
    """
    # Fast path for duplicates and for leads a sweep or a backlog drain got to first: an active
    # assignment only stops being active through a sales answer, after which the lead is no
    # longer an MQL, so returning it without the lock is as correct as the locked re-check.
    existing = Assignment.objects.active().filter(lead_id=lead_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            lead = SalesLocks().lead(lead_id)
            if lead is None:
                return None
            return handoff_locked_leads(leads=[lead]).get(lead_id)
    except IntegrityError:
        existing = Assignment.objects.active().filter(lead_id=lead_id).first()
        if existing is None:
            raise
        return existing


def handoff_locked_leads(
    *, leads: list, queues: list[SalesQueue] | None = None, deferred: list | None = None
) -> dict[int, Assignment | None]:
    """Hand off leads whose rows the caller has locked in the current transaction.

    Works on the whole list at once: one query per step, not per lead, the lifecycle move
    included (``leads_handed_off``). Returns lead id -> active assignment or None, as
    ``lead_handoff`` describes; leads left for another pass because their reps were busy are
    appended to ``deferred``.
    """
    now = timezone.now()
    ids = [lead.pk for lead in leads]
    # Re-checked under the row locks: another worker may have handed a lead off since the
    # caller chose it.
    result: dict[int, Assignment | None] = {a.lead_id: a for a in Assignment.objects.active().filter(lead_id__in=ids)}
    todo, refusals = [], []
    for lead in leads:
        if lead.pk in result:
            continue
        result[lead.pk] = None
        if lead.stage != LifecycleStage.MQL:
            continue
        reason = _refusal_reason(lead)
        if reason:
            refusals.append(HandoffRefusal(lead=lead, reason=reason, at=now))
            continue
        todo.append(lead)
    if refusals:
        HandoffRefusal.objects.bulk_create(refusals, ignore_conflicts=True)
    if not todo:
        return result

    queues = queues if queues is not None else routing.queues_by_priority()
    owners = routing.account_owners_for_leads(leads=todo)
    queue_of = routing.queues_for_leads(lead_ids=[lead.pk for lead in todo], queues=queues)
    for lead in todo:
        if lead.pk not in queue_of and lead.pk in owners:
            owner_queue = routing.queue_for_owner(owner_id=owners[lead.pk], queues=queues)
            if owner_queue is not None:
                queue_of[lead.pk] = owner_queue
    reps = {u.pk: u for u in get_user_model().objects.filter(pk__in=set(owners.values()))}

    created: list[Assignment] = []
    pickers: list[routing.RepPicker] = []
    # Queues in priority order: the order membership locks are taken in (see RepPicker).
    for queue in queues:
        in_queue = [lead for lead in todo if queue_of.get(lead.pk) is queue]
        if not in_queue:
            continue
        picker = None
        for lead in in_queue:
            assignment = Assignment(lead=lead, queue=queue, status=AssignmentStatus.QUEUED, handed_off_at=now)
            rep = reps.get(owners.get(lead.pk))
            if rep is None:
                if picker is None:
                    picker = routing.RepPicker(queue, expected=len(in_queue))
                    pickers.append(picker)
                membership = picker.take(now)
                if membership is None and picker.skipped:
                    # Not full, busy: reps with room are locked by a concurrent hand-off.
                    # The lead stays an MQL without an assignment for the next pass (its own
                    # event task, the drain's next round or the sweep), instead of waiting
                    # QUEUED for a fill.
                    if deferred is not None:
                        deferred.append(lead.pk)
                    continue
                rep = membership.rep if membership is not None else None
            if rep is not None:
                _fill_assignment(assignment, rep=rep, now=now)
            assignment.created_now = True
            created.append(assignment)
    if not created:
        return result
    Assignment.objects.bulk_create(created)
    for picker in pickers:
        picker.flush()
    assigned = [a for a in created if a.status == AssignmentStatus.ASSIGNED]
    # The leads are locked and MQL (checked above), so every one of them moves.
    leads_handed_off(owners={a.lead_id: a.rep_id for a in assigned}, at=now)
    _notify_assigned(assigned)
    for assignment in created:
        result[assignment.lead_id] = assignment
    return result


def _refusal_reason(lead) -> str:
    if lead.do_not_contact:
        return HandoffRefusalReason.DO_NOT_CONTACT
    if lead.do_not_call:
        return HandoffRefusalReason.DO_NOT_CALL
    return ""


def _fill_assignment(assignment: Assignment, *, rep, now) -> None:
    assignment.rep = rep
    assignment.status = AssignmentStatus.ASSIGNED
    assignment.assigned_at = now
    assignment.sla_due_at = queue_sla_due(assignment.queue, now)


def sla_text(minutes: int) -> str:
    """A queue's SLA as the rep reads it: "4 h", "1.5 h", "45 min"."""
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes / 60:.1f}".removesuffix(".0") + " h"


def _lead_name(lead) -> str:
    return lead.full_name or lead.email


def _assigned_message(assignment: Assignment) -> str:
    """The notice the rep's open page shows and speaks: "New lead: Vera Teixeira, SLA 4 h"."""
    return f"New lead: {_lead_name(assignment.lead)}, SLA {sla_text(assignment.queue.sla_minutes)}"


def _notify_assigned(assignments: list[Assignment]) -> None:
    notifications_send([(a.rep, NotificationKind.ASSIGNED, _assigned_message(a), CALL_LIST_URL) for a in assignments])


def _after_assigned(assignment: Assignment, *, lead_stage: str, membership: QueueMembership | None, now) -> None:
    """One assignment given to a rep outside a hand-off batch: the lead moves to HANDED_OFF
    (or, already with sales, changes owner); round-robin cursor; the rep is told."""
    if lead_stage == LifecycleStage.MQL:
        lead_handed_off(lead_id=assignment.lead_id, owner=assignment.rep, at=now)
    else:
        lead_owner_set(lead_id=assignment.lead_id, owner=assignment.rep)
    if membership is None:
        QueueMembership.objects.filter(queue_id=assignment.queue_id, rep_id=assignment.rep_id).update(
            last_assigned_at=now
        )
    _notify_assigned([assignment])


def queue_fill_on_commit(queue_id: int) -> None:
    """A place in the queue came free (a rejection, a reassignment, a closed deal, an
    exhausted cadence): give it to the queue's next waiting lead once this commits."""
    enqueue.handoff_queue_fill(queue_id)


def handoff_queue_fill(*, queue_id: int, limit: int = 50) -> int:
    """Give waiting (QUEUED) assignments of a queue to reps that now have room, oldest first.
    Returns how many were assigned. A waiting lead that left MQL meanwhile (marketing
    disqualified or demoted it) has its assignment closed instead."""
    assigned = []
    with transaction.atomic():
        queued = Assignment.objects.filter(queue_id=queue_id, status=AssignmentStatus.QUEUED)
        oldest = list(queued.order_by("handed_off_at", "pk").values_list("lead_id", flat=True)[:limit])
        # Lock order: the leads (those another fill or service holds are skipped), then their
        # waiting assignments, re-checked under the locks.
        locks = SalesLocks()
        leads = {lead.pk: lead for lead in locks.leads(oldest, skip_locked=True)}
        waiting = locks.assignments(queued.filter(lead_id__in=list(leads)).select_related("queue"))
        waiting.sort(key=lambda a: (a.handed_off_at, a.pk))
        if not waiting:
            return 0
        picker = routing.RepPicker(waiting[0].queue, expected=len(waiting))
        now = timezone.now()
        closed = []
        for assignment in waiting:
            lead = leads[assignment.lead_id]
            if lead.stage != LifecycleStage.MQL:
                closed.append(assignment.pk)
                continue
            membership = picker.take(now)
            if membership is None:
                break
            _fill_assignment(assignment, rep=membership.rep, now=now)
            assignment.lead = lead
            assigned.append(assignment)
        # Set-based writes on the rows locked above: one UPDATE for the closed, one for the
        # filled, one move of their leads to HANDED_OFF (locked and MQL, so every one moves).
        if closed:
            Assignment.objects.filter(pk__in=closed).update(status=AssignmentStatus.CLOSED, closed_at=now)
        if assigned:
            Assignment.objects.bulk_update(assigned, ["rep", "status", "assigned_at", "sla_due_at"])
            leads_handed_off(owners={a.lead_id: a.rep_id for a in assigned}, at=now)
        picker.flush()
        _notify_assigned(assigned)
    return len(assigned)


# --- the sweep ------------------------------------------------------------------------------


def sweep_candidates():
    """MQLs without an active assignment, except those already refused for a flag still set."""
    active = Assignment.objects.active().filter(lead_id=OuterRef("pk"))
    refused = HandoffRefusal.objects.filter(lead_id=OuterRef("pk"))
    return (
        Lead.objects.qualified()
        .filter(~Exists(active))
        .filter(Q(do_not_call=False, do_not_contact=False) | ~Exists(refused))
    )


def handoff_sweep(*, batch_size: int = 50, max_leads: int = 10_000) -> int:
    """The safety net: hand off every MQL the event path missed (Redis down, a lost message, a
    worker killed), and fill waiting assignments where room appeared.

    Works in small batches, each its own transaction, rows taken in primary-key order with
    ``SKIP LOCKED``: several sweeps (or a sweep and the event tasks) run side by side without
    waiting on, or doubling, each other's leads. Returns how many leads it handed off.
    """
    for queue_id in (
        Assignment.objects.filter(status=AssignmentStatus.QUEUED).values_list("queue_id", flat=True).distinct()
    ):
        handoff_queue_fill(queue_id=queue_id)

    return _handoff_drain(sweep_candidates, batch_size=batch_size, max_leads=max_leads)


def handoff_backlog(*, batch_size: int = 100, max_leads: int = 10_000, window_minutes: int = 15) -> int:
    """Hand off recently qualified MQLs still waiting, batch after batch, until none are left
    (or ``max_leads`` were looked at). Returns how many were handed off.

    Run by an event task after its own lead is committed: when thousands of leads qualify at
    once (a bulk re-score), the first tasks route them in batches (with ``SKIP LOCKED``, so
    two draining workers share the work) and the tasks queued behind find their lead already
    assigned, a one-query no-op. With no backlog it costs one query. Only recent
    qualifications count, so a lead no queue takes is not retried by every task; the
    periodic sweep keeps retrying those.
    """

    def recent_candidates():
        since = timezone.now() - datetime.timedelta(minutes=window_minutes)
        return sweep_candidates().filter(qualified_at__gte=since)

    return _handoff_drain(recent_candidates, batch_size=batch_size, max_leads=max_leads)


def _handoff_drain(candidates, *, batch_size: int, max_leads: int) -> int:
    """Hand off ``candidates()`` in primary-key order, one transaction per batch of rows taken
    with ``SKIP LOCKED``, until none are left or ``max_leads`` were looked at. Leads deferred
    because their reps were busy get one more pass from the start. Queues are read only once
    there is a batch, so an empty drain costs one query."""
    handed = seen = last_pk = 0
    queues = None
    restarted = False
    deferred: list[int] = []
    while seen < max_leads:
        with transaction.atomic():
            ids = list(candidates().filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                if restarted or not deferred:
                    break
                # One more pass from the start for leads deferred while their reps were busy.
                restarted, last_pk = True, 0
                continue
            # Locked in pk order, skipping those another worker holds; handoff_locked_leads
            # re-checks each under its lock.
            batch = SalesLocks().leads(ids, skip_locked=True, only=HANDOFF_LEAD_FIELDS)
            if batch:
                queues = queues if queues is not None else routing.queues_by_priority()
                handed += _handoff_batch(batch, queues=queues, deferred=deferred)
        last_pk = ids[-1]
        seen += len(ids)
    return handed


def _handoff_batch(leads: list, *, queues, deferred: list | None = None) -> int:
    """One sweep batch; if the batch as a whole fails, each lead is tried on its own so one
    bad lead cannot hold the others back."""
    try:
        with transaction.atomic():
            results = handoff_locked_leads(leads=leads, queues=queues, deferred=deferred)
        return sum(1 for a in results.values() if getattr(a, "created_now", False))
    except (ValidationError, DatabaseError):
        logger.warning("sweep: a batch of %s leads failed; retrying them one by one", len(leads), exc_info=True)
    handed = 0
    for lead in leads:
        try:
            with transaction.atomic():
                one = handoff_locked_leads(leads=[lead], queues=queues, deferred=deferred)
                if getattr(one.get(lead.pk), "created_now", False):
                    handed += 1
        except (ValidationError, DatabaseError):
            logger.exception("sweep: lead %s could not be handed off; the next sweep retries", lead.pk)
    return handed


# --- the rep's answer -----------------------------------------------------------------------


def _assignment_for_actor(*, assignment_id, actor, locks: SalesLocks | None = None) -> Assignment:
    """Lock (its lead first, then it) and return an assignment the actor may act on. Another
    rep's assignment is reported exactly like a missing one, so ids cannot be probed."""
    qs = Assignment.objects.select_related("queue", "lead", "rep")
    if not is_manager(actor):
        qs = qs.filter(rep_id=actor.pk)
    try:
        pk = int(assignment_id)
    except (TypeError, ValueError):
        pk = None
    found = qs.filter(pk=pk).values_list("lead_id", flat=True).first() if pk else None
    assignment = None
    if found is not None:
        locks = locks or SalesLocks()
        locks.lead(found)
        assignment = locks.assignment(qs, pk)
    if assignment is None:
        raise ValidationError(
            {"assignment_id": "Assignment not found (it may have been moved to someone else)."}, code="not_found"
        )
    return assignment


def _assignment_payload(assignment: Assignment) -> dict:
    return {
        "assignment": assignment.pk,
        "lead": assignment.lead_id,
        "queue": assignment.queue_id,
        "rep": assignment.rep_id,
        "status": assignment.status,
        "reason": assignment.rejected_reason or "",
        "at": timezone.now().isoformat(),
    }


def assignment_accept(*, assignment_id: int, actor) -> Assignment:
    """The rep takes the lead: assignment ACCEPTED, lead -> SAL. Accepting twice is a no-op."""
    with transaction.atomic():
        assignment = _assignment_for_actor(assignment_id=assignment_id, actor=actor)
        if assignment.status == AssignmentStatus.ACCEPTED:
            return assignment
        if assignment.status != AssignmentStatus.ASSIGNED:
            raise ValidationError(
                {"status": f"Only an assigned lead can be accepted; this one is {assignment.get_status_display()}."},
                code="invalid_state",
            )
        now = timezone.now()
        lead_accepted_by_sales(lead_id=assignment.lead_id, actor=actor, at=now)
        assignment.status = AssignmentStatus.ACCEPTED
        assignment.accepted_at = now
        assignment.save(update_fields=["status", "accepted_at"])
        sales_events_announce("assignment.accepted", [_assignment_payload(assignment)])
    return assignment


def assignment_reject(*, assignment_id: int, reason: str, note: str = "", actor) -> Assignment:
    """The rep sends the lead back: assignment REJECTED with the reason, lead -> RECYCLED
    through leads (reason code ``rejected:<reason>``; ``no_contact`` uses the no-contact
    outcome). "Other" needs a note. The freed place goes to the queue's next waiting lead."""
    if not reason:
        raise ValidationError({"reason": "Choose why you are sending the lead back."})
    if reason not in RejectReason.values:
        choices = ", ".join(RejectReason.values)
        raise ValidationError({"reason": f"'{reason}' is not a rejection reason; choose one of: {choices}."})
    note = (note or "").strip()
    if reason == RejectReason.OTHER and not note:
        raise ValidationError({"note": "Say why in a note when the reason is 'other'."})
    text_lengths_check({"note": note})
    with transaction.atomic():
        assignment = _assignment_for_actor(assignment_id=assignment_id, actor=actor)
        if assignment.status not in OPEN_FOR_REP_STATUSES:
            raise ValidationError(
                {"status": f"Only an open assignment can be rejected; this one is {assignment.get_status_display()}."},
                code="invalid_state",
            )
        now = timezone.now()
        if reason == RejectReason.NO_CONTACT:
            lead_recycled_no_contact(lead_id=assignment.lead_id, actor=actor, note=note, at=now)
        else:
            lead_rejected_by_sales(lead_id=assignment.lead_id, reason=reason, note=note, actor=actor, at=now)
        # Marketing's score takes the rejection into account now (the policy's rejection
        # penalty), not at the next nightly re-score.
        lead_score(lead_id=assignment.lead_id)
        assignment.status = AssignmentStatus.REJECTED
        assignment.rejected_at = now
        assignment.rejected_reason = reason
        assignment.rejected_note = note
        assignment.closed_at = now
        assignment.save(update_fields=["status", "rejected_at", "rejected_reason", "rejected_note", "closed_at"])
        sales_events_announce("assignment.rejected", [_assignment_payload(assignment)])
        queue_fill_on_commit(assignment.queue_id)
    return assignment


def assignment_reassign(*, assignment_id: int, rep_id: int, actor) -> Assignment:
    """A manager moves an active assignment to another rep (capacity is the manager's call).

    A waiting (QUEUED) assignment is simply given to the rep. An assigned or accepted one is
    closed as REASSIGNED and a new one, pointing back to it, goes to the rep with a fresh SLA
    (an accepted lead stays accepted). Returns the assignment now active.
    """
    if not is_manager(actor):
        raise PermissionDenied("Only sales managers can reassign leads.")
    rep = _rep_or_error(rep_id)
    with transaction.atomic():
        assignment = _assignment_for_actor(assignment_id=assignment_id, actor=actor)
        if not assignment.is_active:
            raise ValidationError(
                {
                    "status": f"Only an active assignment can be reassigned; this one is {assignment.get_status_display()}."
                },
                code="invalid_state",
            )
        if assignment.rep_id == rep.pk:
            raise ValidationError({"rep_id": f"The lead is already assigned to {rep.username}."})
        return _move_to_rep(assignment, rep=rep, now=timezone.now(), actor=actor)


def _rep_or_error(rep_id):
    try:
        rep = get_user_model().objects.filter(pk=int(rep_id), is_active=True, groups__name=SALES_REP).first()
    except (TypeError, ValueError):
        rep = None
    if rep is None:
        raise ValidationError({"rep_id": f"{rep_id!r} is not an active sales rep."})
    return rep


def _move_to_rep(assignment: Assignment, *, rep, now, actor=None, membership=None) -> Assignment:
    """Caller holds the lead's lock, then the assignment's. Returns the active assignment
    after the move."""
    lead = Lead.objects.get(pk=assignment.lead_id)
    if assignment.status == AssignmentStatus.QUEUED:
        if lead.stage != LifecycleStage.MQL:
            raise ValidationError({"status": f"The lead is no longer qualified ({lead.get_stage_display()})."})
        _fill_assignment(assignment, rep=rep, now=now)
        assignment.lead = lead
        assignment.save(update_fields=["rep", "status", "assigned_at", "sla_due_at"])
        _after_assigned(assignment, lead_stage=lead.stage, membership=membership, now=now)
        return assignment

    previous_rep = assignment.rep
    Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.REASSIGNED, closed_at=now)
    assignment.status = AssignmentStatus.REASSIGNED
    new = Assignment(
        lead=lead,
        queue=assignment.queue,
        status=AssignmentStatus.QUEUED,
        handed_off_at=now,
        previous=assignment,
    )
    _fill_assignment(new, rep=rep, now=now)
    if assignment.accepted_at is not None:
        new.status = AssignmentStatus.ACCEPTED
        new.accepted_at = assignment.accepted_at
    new.save()
    _after_assigned(new, lead_stage=lead.stage, membership=membership, now=now)
    if previous_rep is not None:
        notification_send(
            user=previous_rep,
            kind=NotificationKind.REASSIGNED_AWAY,
            message=f"{lead} was reassigned to {rep.get_full_name() or rep.username}.",
            url=CALL_LIST_URL,
            email=False,
        )
    queue_fill_on_commit(assignment.queue_id)
    return new


# --- SLA ------------------------------------------------------------------------------------


def sla_check(*, now=None, batch_size: int = 50) -> int:
    """Record every overdue first touch once, and act on it as the queue says: reassign to
    the next rep with room (escalating to the queue's manager when nobody has room) or
    escalate. Returns the number of breaches recorded.

    A breached assignment carries ``sla_breached_at`` and exactly one ``SlaBreach`` row, so a
    second run (or a concurrent one: rows are taken with SKIP LOCKED and re-checked under the
    lock) finds nothing to do. The reassigned lead's new assignment starts a fresh SLA.
    """
    recorded = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            now_ = now or timezone.now()
            overdue = Assignment.objects.overdue(now_)
            found = list(overdue.filter(pk__gt=last_pk).order_by("pk").values_list("pk", "lead_id")[:batch_size])
            if not found:
                return recorded
            # Lock order: the leads (those another worker or a rep's call holds are left for
            # the next run), then their assignments, re-checked as overdue under the locks.
            locks = SalesLocks()
            leads = locks.leads({lead_id for _, lead_id in found}, skip_locked=True)
            batch = locks.assignments(
                overdue.filter(pk__in=[pk for pk, _ in found], lead_id__in=[lead.pk for lead in leads]).select_related(
                    "queue", "queue__manager", "rep", "lead"
                )
            )
            for assignment in batch:
                if _sla_breach(assignment, now=now_):
                    recorded += 1
        last_pk = found[-1][0]


def sla_warn(*, now=None, batch_size: int = 200) -> int:
    """Warn each rep once per assignment when ``SLA_WARNING_PERCENT`` of its first-touch SLA
    (from assigned to due) has passed without a call, before the breach. Returns how many
    warnings were sent.

    Once: the assignment's ``sla_warned_at`` is stamped under its row lock (taken with SKIP
    LOCKED: a row a rep's call or the SLA check holds is left for the next minute), in the same
    transaction as the notification, whose key ``sla_warning:<assignment id>`` is unique.
    Only assignment rows are locked, so no lock order question arises.
    """
    share = settings.SLA_WARNING_PERCENT / 100
    sent = 0
    while True:
        with transaction.atomic():
            now_ = now or timezone.now()
            due = (
                Assignment.objects.filter(
                    status__in=OPEN_FOR_REP_STATUSES,
                    rep__isnull=False,
                    first_touch_at__isnull=True,
                    sla_breached_at__isnull=True,
                    sla_warned_at__isnull=True,
                    assigned_at__isnull=False,
                    sla_due_at__gt=now_,
                )
                .alias(
                    warn_at=ExpressionWrapper(
                        F("assigned_at") + (F("sla_due_at") - F("assigned_at")) * share,
                        output_field=DateTimeField(),
                    )
                )
                .filter(warn_at__lte=now_)
            )
            batch = list(
                due.select_for_update(of=("self",), skip_locked=True)
                .select_related("lead", "queue", "rep")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return sent
            Assignment.objects.filter(pk__in=[a.pk for a in batch]).update(sla_warned_at=now_)
            notifications_send(
                [
                    (
                        a.rep,
                        NotificationKind.SLA_WARNING,
                        f"SLA warning: call {_lead_name(a.lead)} within "
                        f"{duration_text(int((a.sla_due_at - now_).total_seconds()))} "
                        f"(first touch due {a.sla_due_at:%H:%M} UTC)",
                        f"/calls/leads/{a.lead_id}/",
                        f"sla_warning:{a.pk}",
                    )
                    for a in batch
                ],
                email=False,
            )
            sent += len(batch)


def _sla_breach(assignment: Assignment, *, now) -> bool:
    fresh = Assignment.objects.filter(pk=assignment.pk).values("status", "first_touch_at", "sla_breached_at").first()
    if (
        fresh is None
        or fresh["status"] not in OPEN_FOR_REP_STATUSES
        or fresh["first_touch_at"] is not None
        or fresh["sla_breached_at"] is not None
    ):
        return False
    breach, created = SlaBreach.objects.get_or_create(
        assignment=assignment, defaults={"breached_at": now, "action": assignment.queue.sla_action}
    )
    Assignment.objects.filter(pk=assignment.pk).update(sla_breached_at=now)
    assignment.sla_breached_at = now
    if not created:
        return False
    queue = assignment.queue
    lead = assignment.lead
    if queue.sla_action == SlaAction.REASSIGN:
        # Lead and assignment are locked (sla_check); the membership comes last.
        membership = routing.rep_lock_with_room(queue=queue, exclude_rep_ids=[assignment.rep_id])
        if membership is not None:
            new = _move_to_rep(assignment, rep=membership.rep, now=now, membership=membership)
            breach.new_assignment = new
            breach.save(update_fields=["new_assignment"])
            return True
    # Escalate: the queue's setting, or a reassignment with nobody to take the lead.
    breach.action = SlaAction.ESCALATE
    breach.escalated_to = queue.manager
    breach.save(update_fields=["action", "escalated_to"])
    if queue.manager is not None:
        notification_send(
            user=queue.manager,
            kind=NotificationKind.ESCALATION,
            message=f"SLA breached in {queue}: {lead} has not been called by {assignment.rep}.",
            url=CALL_LIST_URL,
        )
    if assignment.rep is not None:
        notification_send(
            user=assignment.rep,
            kind=NotificationKind.SLA_BREACH,
            message=f"First-touch SLA breached for {lead}; your manager has been told.",
            url=CALL_LIST_URL,
        )
    return True
