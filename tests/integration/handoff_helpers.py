"""Shared set-up for the hand-off integration tests (real worker processes, real services).

Transactional tests flush the database afterwards, role groups included, so users here are
plain users: routing does not look at groups.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from crm.models import OPEN_FOR_REP_STATUSES, Assignment, QueueMembership, SalesQueue
from leads.api import Lead, LifecycleStage, lead_qualified, lead_transition
from tests.factories import UserFactory


def make_queue(*, reps: int = 2, capacity: int = 100, name: str = "Inbound", **fields) -> SalesQueue:
    queue = SalesQueue.objects.create(
        name=name,
        priority=1,
        business_days=[0, 1, 2, 3, 4, 5, 6],
        business_hours_start=datetime.time(0, 0),
        business_hours_end=datetime.time(23, 59),
        **fields,
    )
    for i in range(reps):
        QueueMembership.objects.create(
            queue=queue, rep=UserFactory(username=f"{name.lower()}-rep{i}"), capacity=capacity
        )
    return queue


def make_mqls(n: int, *, prefix: str = "mql") -> list[int]:
    now = timezone.now()
    Lead.objects.bulk_create(
        Lead(email=f"{prefix}{i}@example.com", stage=LifecycleStage.MQL, qualified_at=now, stage_changed_at=now)
        for i in range(n)
    )
    return list(Lead.objects.filter(email__startswith=prefix).order_by("pk").values_list("pk", flat=True))


def qualify(lead_id: int) -> None:
    """What marketing's qualification does: the MQL move, and the signal once it commits."""
    with transaction.atomic():
        lead_transition(lead_id=lead_id, to_stage=LifecycleStage.MQL)
        transaction.on_commit(lambda: lead_qualified.send(sender=Lead, lead_id=lead_id))


def leads_with_more_than_one_active_assignment() -> int:
    return Assignment.objects.active().values("lead_id").annotate(n=Count("pk")).filter(n__gt=1).count()


def memberships_over_capacity() -> list:
    return list(
        QueueMembership.objects.annotate(
            open_count=Count(
                "rep__assignments",
                filter=Q(rep__assignments__queue=F("queue"), rep__assignments__status__in=OPEN_FOR_REP_STATUSES),
            )
        )
        .filter(open_count__gt=F("capacity"))
        .values_list("rep__username", "open_count", "capacity")
    )
