"""Helpers for the sales workspace tests: a rep's assigned lead, a queue with a cadence."""

import datetime

from django.utils import timezone

from crm.models import AssignmentStatus
from leads.models import LifecycleStage
from tests.crm.factories import AssignmentFactory, SalesQueueFactory
from tests.leads.factories import LeadFactory


def assigned_lead(
    rep,
    *,
    stage=LifecycleStage.HANDED_OFF,
    status=AssignmentStatus.ASSIGNED,
    queue=None,
    assignment=None,
    **lead_fields,
):
    """A lead handed off to ``rep``; returns the assignment (``.lead`` is the lead)."""
    lead = LeadFactory(stage=stage, owner=rep, **lead_fields)
    extra = dict(assignment or {})
    if queue is not None:
        extra["queue"] = queue
    if status == AssignmentStatus.ACCEPTED:
        extra.setdefault("accepted_at", timezone.now())
    return AssignmentFactory(lead=lead, rep=rep, status=status, **extra)


def accepted_lead(rep, **kwargs):
    return assigned_lead(rep, stage=LifecycleStage.SAL, status=AssignmentStatus.ACCEPTED, **kwargs)


def queue_with_attempts(max_attempts):
    return SalesQueueFactory(max_attempts=max_attempts)


def minutes(n):
    return datetime.timedelta(minutes=n)
