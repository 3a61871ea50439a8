"""Where a qualified lead goes: which queue, and which rep in it.

Reads only, except `rep_lock_with_room`, which takes the membership row lock that makes a
rep's capacity check and the assignment that uses it one serialised step.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q
from django.db.models.functions import Lower
from django.utils import timezone

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


def account_owner_for_lead(*, lead):
    """The active user owning the account of the lead's company, so no two reps call one
    company. Matched on the lower-cased domain (the index the unique constraint uses)."""
    domain = (lead.company_domain or "").strip().lower()
    if not domain:
        return None
    owner_id = (
        Account.objects.annotate(domain_lower=Lower("domain"))
        .filter(domain_lower=domain, owner__isnull=False, owner__is_active=True)
        .values_list("owner_id", flat=True)
        .first()
    )
    if owner_id is None:
        return None
    return get_user_model().objects.get(pk=owner_id)


def queue_for_owner(*, owner, queues: list[SalesQueue]) -> SalesQueue | None:
    """A queue to book an account owner's lead under when no queue's segment matches: the
    first of the owner's own queues."""
    member_of = set(QueueMembership.objects.filter(rep=owner, queue__is_active=True).values_list("queue_id", flat=True))
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


def _has_room(membership: QueueMembership) -> bool:
    used = Assignment.objects.filter(
        queue_id=membership.queue_id, rep_id=membership.rep_id, status__in=OPEN_FOR_REP_STATUSES
    ).count()
    return used < membership.capacity


def rep_lock_with_room(*, queue, exclude_rep_ids=()) -> QueueMembership | None:
    """Lock and return the best membership of ``queue`` that still has room, or None.

    Capacity is checked again after the membership row is locked: every assignment to a rep
    in a queue is made while holding that rep's membership lock, so the recount (a fresh
    snapshot under READ COMMITTED) sees every committed assignment and no concurrent one can
    slip in before our commit. Candidates locked by another worker are skipped first
    (`skip_locked`) so concurrent hand-offs spread over reps instead of queueing behind one;
    only if all of them were busy do we wait, in primary-key order.
    """
    busy: list[QueueMembership] = []
    for membership in rep_candidates(queue=queue, exclude_rep_ids=exclude_rep_ids):
        locked = QueueMembership.objects.select_for_update(skip_locked=True).filter(pk=membership.pk).first()
        if locked is None:
            busy.append(membership)
            continue
        if _has_room(locked):
            return locked
    for membership in sorted(busy, key=lambda m: m.pk):
        locked = QueueMembership.objects.select_for_update().filter(pk=membership.pk).first()
        if locked is not None and locked.is_active and _has_room(locked):
            return locked
    return None
