"""Where a qualified lead goes: which queue, and which rep in it.

Reads only, except `RepPicker`, which takes the membership row locks that make a rep's
capacity check and the assignments that use it one serialised step.
"""

from __future__ import annotations

import datetime
import logging

from django.db.models import Case, Count, DateTimeField, F, Q, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from leads.api import Lead

from .business_hours import zone
from .models import OPEN_FOR_REP_STATUSES, Account, Assignment, QueueMembership, RoutingStrategy, SalesQueue

logger = logging.getLogger(__name__)


def lead_in_segment(*, segment_id: int, lead_id: int) -> bool:
    # Imported here: `segment_contains` belongs to the scoring work in leads.api.
    from leads.api import segment_contains

    return segment_contains(segment_id=segment_id, lead_id=lead_id)


def queues_by_priority() -> list[SalesQueue]:
    return list(SalesQueue.objects.active().by_priority())


def queue_for_lead(*, lead, queues: list[SalesQueue] | None = None) -> SalesQueue | None:
    """The first active queue, by priority, whose segment holds the lead; a queue without a
    segment takes any lead."""
    for queue in queues if queues is not None else queues_by_priority():
        if queue.segment_id is None or lead_in_segment(segment_id=queue.segment_id, lead_id=lead.pk):
            return queue
    return None


def queues_for_leads(*, lead_ids: list[int], queues: list[SalesQueue]) -> dict[int, SalesQueue]:
    """``queue_for_lead`` for many leads: one query per queue with a segment, none for a
    catch-all. Leads no queue takes are absent from the answer."""
    if len(lead_ids) == 1:
        queue = queue_for_lead(lead=Lead(pk=lead_ids[0]), queues=queues)
        return {lead_ids[0]: queue} if queue else {}
    from leads.api import segment_member_q

    chosen: dict[int, SalesQueue] = {}
    remaining = set(lead_ids)
    for queue in queues:
        if not remaining:
            break
        if queue.segment_id is None:
            matched = set(remaining)
        else:
            matched = set(
                Lead.objects.filter(pk__in=remaining)
                .filter(segment_member_q(queue.segment))
                .values_list("pk", flat=True)
            )
        for lead_id in matched:
            chosen[lead_id] = queue
        remaining -= matched
    return chosen


def account_owners_for_leads(*, leads) -> dict[int, int]:
    """lead id -> id of the active user owning the account of the lead's company (matched on
    the lower-cased domain, the index the unique constraint uses). One query."""
    domains = {(lead.company_domain or "").strip().lower() for lead in leads} - {""}
    if not domains:
        return {}
    owner_by_domain = dict(
        Account.objects.annotate(domain_lower=Lower("domain"))
        .filter(domain_lower__in=domains, owner__isnull=False, owner__is_active=True)
        .values_list("domain_lower", "owner_id")
    )
    return {
        lead.pk: owner_by_domain[d]
        for lead in leads
        if (d := (lead.company_domain or "").strip().lower()) in owner_by_domain
    }


def queue_for_owner(*, owner_id: int, queues: list[SalesQueue]) -> SalesQueue | None:
    """A queue to book an account owner's lead under when no queue's segment matches: the
    first of the owner's own queues."""
    member_of = set(
        QueueMembership.objects.filter(rep_id=owner_id, queue__is_active=True).values_list("queue_id", flat=True)
    )
    return next((q for q in queues if q.pk in member_of), None)


def queue_today(queue) -> object:
    return timezone.now().astimezone(zone(queue.timezone)).date()


def rep_candidates(*, queue, exclude_rep_ids=()) -> list[QueueMembership]:
    """Available members of ``queue`` with spare capacity as last committed, best first by
    the queue's strategy. Each carries ``open_count``."""
    open_in_queue = Count(
        "rep__assignments",
        filter=Q(rep__assignments__queue=queue, rep__assignments__status__in=OPEN_FOR_REP_STATUSES),
    )
    qs = (
        QueueMembership.objects.available(today=queue_today(queue))
        .filter(queue=queue, rep__is_active=True)
        .exclude(rep_id__in=list(exclude_rep_ids))
        .annotate(open_count=open_in_queue)
        .filter(open_count__lt=F("capacity"))
    )
    if queue.strategy == RoutingStrategy.LEAST_LOADED:
        qs = qs.order_by("open_count", F("last_assigned_at").asc(nulls_first=True), "pk")
    else:
        qs = qs.order_by(F("last_assigned_at").asc(nulls_first=True), "pk")
    return list(qs)


def _open_counts(*, queue, rep_ids) -> dict[int, int]:
    rows = (
        Assignment.objects.filter(queue=queue, rep_id__in=list(rep_ids), status__in=OPEN_FOR_REP_STATUSES)
        .values("rep_id")
        .annotate(n=Count("pk"))
        .values_list("rep_id", "n")
    )
    return dict(rows)


class RepPicker:
    """Chooses reps of one queue for one transaction, never beyond their capacity.

    Capacity is checked on a membership only after its row is locked: every assignment to a
    rep in a queue is made while holding that rep's membership lock, so the count taken after
    the lock (a fresh snapshot under READ COMMITTED) sees every committed assignment and no
    concurrent one can slip in before our commit.

    Locks are taken lazily, best candidates first, with ``SKIP LOCKED``, as many at a time as
    leads are still expected: concurrent hand-offs spread over reps instead of queueing
    behind one. Only a transaction holding no membership
    of this queue waits (in primary-key order) when every candidate is busy; one that holds
    some and runs out leaves the rest of its leads QUEUED, to be filled when room appears.
    Callers visit queues in priority order, so waits only ever point forward: no deadlock.
    """

    def __init__(self, queue, *, exclude_rep_ids=(), expected: int = 1):
        self.queue = queue
        # How many leads the caller expects to place: locks are taken for up to that many of
        # the best candidates in one statement (a batch of 100 leads over 20 reps locks and
        # counts all 20 in two queries instead of forty).
        self.expected = max(1, expected)
        self.candidates = rep_candidates(queue=queue, exclude_rep_ids=exclude_rep_ids)
        self.held: dict[int, QueueMembership] = {}
        self.load: dict[int, int] = {}
        self.skipped: list[QueueMembership] = []
        self.full: set[int] = set()
        self.used: dict[int, datetime.datetime] = {}
        self.placed = 0
        self.waited = False

    def _order(self, membership):
        never = datetime.datetime.min.replace(tzinfo=datetime.UTC)
        last = self.used.get(membership.pk) or membership.last_assigned_at or never
        load = self.load.get(membership.pk, membership.open_count)
        if self.queue.strategy == RoutingStrategy.LEAST_LOADED:
            return (load, last, membership.pk)
        return (last, membership.pk)

    def _lock(self, membership, *, wait: bool) -> bool:
        qs = QueueMembership.objects.select_related("rep").filter(pk=membership.pk, is_active=True)
        locked = (
            qs.select_for_update(of=("self",)) if wait else qs.select_for_update(skip_locked=True, of=("self",))
        ).first()
        if locked is None:
            return False
        self._hold([locked])
        return True

    def _lock_next(self, ordered: list[QueueMembership]) -> None:
        """Lock, without waiting, the next best candidates not yet tried: as many as leads
        are still expected. Those another transaction holds are marked skipped."""
        want = max(1, self.expected - self.placed)
        tried = set(self.held) | self.full | {m.pk for m in self.skipped}
        chunk = [m for m in ordered if m.pk not in tried][:want]
        locked = list(
            QueueMembership.objects.select_related("rep")
            .filter(pk__in=[m.pk for m in chunk], is_active=True)
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))
        )
        self._hold(locked)
        self.skipped.extend(m for m in chunk if m.pk not in self.held)

    def _hold(self, locked: list[QueueMembership]) -> None:
        """Count the open assignments of freshly locked memberships (a snapshot taken after
        the lock, so it sees every committed assignment)."""
        counts = _open_counts(queue=self.queue, rep_ids=[m.rep_id for m in locked]) if locked else {}
        for membership in locked:
            self.held[membership.pk] = membership
            self.load[membership.pk] = counts.get(membership.rep_id, 0)

    def _room(self, pk) -> bool:
        return self.load[pk] < self.held[pk].capacity

    def take(self, now) -> QueueMembership | None:
        """The membership whose rep gets the next lead, its load counted; None if nobody has room."""
        ordered = sorted(self.candidates, key=self._order)
        for membership in ordered:
            pk = membership.pk
            if pk in self.full or any(m.pk == pk for m in self.skipped):
                continue
            if pk not in self.held:
                self._lock_next(ordered)
                if pk not in self.held:
                    continue
            if not self._room(pk):
                self.full.add(pk)
                continue
            return self._use(pk, now)
        if not self.held and self.skipped and not self.waited:
            self.waited = True
            waiting, self.skipped = sorted(self.skipped, key=lambda m: m.pk), []
            for membership in waiting:
                self._lock(membership, wait=True)
            return self.take(now)
        return None

    def _use(self, pk, now) -> QueueMembership:
        self.load[pk] += 1
        self.placed += 1
        self.used[pk] = now + datetime.timedelta(microseconds=len(self.used) + 1)
        return self.held[pk]

    def flush(self) -> None:
        """Store the round-robin cursor of every rep given a lead (one statement)."""
        if not self.used:
            return
        QueueMembership.objects.filter(pk__in=list(self.used)).update(
            last_assigned_at=Case(
                *(When(pk=pk, then=Value(at)) for pk, at in self.used.items()), output_field=DateTimeField()
            )
        )


def rep_lock_with_room(*, queue, exclude_rep_ids=(), now=None) -> QueueMembership | None:
    """Lock and return the best membership of ``queue`` that has room for one more lead."""
    picker = RepPicker(queue, exclude_rep_ids=exclude_rep_ids)
    membership = picker.take(now or timezone.now())
    picker.flush()
    return membership
