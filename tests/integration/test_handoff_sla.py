"""SLA breaches through real workers: recorded and acted on once, however often the check runs."""

import datetime
import re

from django.utils import timezone

from crm.models import Assignment, AssignmentStatus, QueueMembership, SlaBreach
from crm.services.handoff import lead_handoff, sla_check
from crm.tasks import sla_check_task
from leads.api import Lead, LifecycleStage
from tests.integration.conftest import wait_until
from tests.integration.handoff_helpers import make_queue
from tests.leads.factories import LeadFactory


def test_an_sla_breach_reassigns_once_not_repeatedly(celery_worker_factory):
    queue = make_queue(reps=3, capacity=10)
    lead = LeadFactory(stage=LifecycleStage.MQL)
    first = lead_handoff(lead_id=lead.pk)
    Assignment.objects.filter(pk=first.pk).update(sla_due_at=timezone.now() - datetime.timedelta(minutes=5))
    worker = celery_worker_factory(queues="handoff_sweep,sales", concurrency=2)

    for _ in range(4):  # beat firing repeatedly, two worker processes racing
        sla_check_task.delay()

    pattern = re.compile(r"sla_check_task\[[^\]]+\] succeeded")
    wait_until(lambda: len(pattern.findall(worker.log())) == 4, timeout=30, message="four SLA checks")
    assert sla_check() == 0  # and once more in this process

    breach = SlaBreach.objects.get()
    assert breach.assignment_id == first.pk
    first.refresh_from_db()
    assert first.status == AssignmentStatus.REASSIGNED
    active = Assignment.objects.active().get(lead=lead)
    assert active == breach.new_assignment
    assert active.rep_id != first.rep_id
    assert active.rep_id in set(QueueMembership.objects.filter(queue=queue).values_list("rep_id", flat=True))
    assert Assignment.objects.filter(lead=lead).count() == 2
    assert Lead.objects.get(pk=lead.pk).owner_id == active.rep_id
