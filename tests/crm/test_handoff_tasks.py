import datetime
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from crm.models import Assignment, AssignmentStatus
from crm.tasks import handoff_lead_task, handoff_queue_fill_task, handoff_sweep_task, sla_check_task
from leads.api import lead_qualified
from leads.models import LifecycleStage
from tests.crm.factories import QueueMembershipFactory, SalesQueueFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(rep):
    queue = SalesQueueFactory()
    QueueMembershipFactory(queue=queue, rep=rep)
    return queue


def test_the_receiver_enqueues_the_hand_off_only_after_commit(django_capture_on_commit_callbacks):
    with mock.patch("crm.tasks.handoff_lead_task.delay") as delay:
        with django_capture_on_commit_callbacks() as callbacks:
            lead_qualified.send(sender=None, lead_id=42)
        delay.assert_not_called()

        for callback in callbacks:
            callback()

    delay.assert_called_once_with(42)


def test_the_receiver_enqueues_nothing_for_a_lead_already_assigned(django_capture_on_commit_callbacks, queue, rep):
    lead = LeadFactory(stage=LifecycleStage.MQL)
    handoff_lead_task(lead.pk)  # a drain or a sweep got there first

    with (
        mock.patch("crm.tasks.handoff_lead_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        lead_qualified.send(sender=None, lead_id=lead.pk)

    delay.assert_not_called()


def test_the_receiver_survives_a_broker_outage(django_capture_on_commit_callbacks):
    with (
        mock.patch("crm.tasks.handoff_lead_task.delay", side_effect=ConnectionError("broker down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        lead_qualified.send(sender=None, lead_id=42)

    assert Assignment.objects.count() == 0


def test_the_receiver_is_connected_once():
    receivers = [r for r in lead_qualified.receivers if "handoff_on_lead_qualified" in str(r[0])]
    assert len(receivers) == 1


def test_the_hand_off_task_assigns_the_lead_and_is_idempotent(queue, rep):
    lead = LeadFactory(stage=LifecycleStage.MQL)

    first = handoff_lead_task(lead.pk)
    second = handoff_lead_task(lead.pk)

    assert first == second == Assignment.objects.get(lead=lead, status=AssignmentStatus.ASSIGNED, rep=rep).pk


def test_the_hand_off_task_acks_late_and_is_requeued_if_its_worker_dies():
    assert handoff_lead_task.acks_late is True
    assert handoff_lead_task.reject_on_worker_lost is True


def test_hand_off_tasks_run_on_the_handoff_queue_and_the_recovery_jobs_on_their_own():
    from config.celery import app

    router = app.amqp.router
    assert router.route({}, handoff_lead_task.name)["queue"].name == "handoff"
    assert router.route({}, handoff_sweep_task.name)["queue"].name == "handoff_sweep"
    assert router.route({}, handoff_queue_fill_task.name)["queue"].name == "handoff"
    assert router.route({}, sla_check_task.name)["queue"].name == "handoff_sweep"
    assert router.route({}, "crm.tasks.email_outbox_resend_task")["queue"].name == "handoff_sweep"


def test_beat_runs_the_sweep_and_the_sla_check_every_minute():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule[handoff_sweep_task.name] == 60.0
    assert schedule[sla_check_task.name] == 60.0


def test_the_sweep_task_hands_off_waiting_mqls(queue):
    LeadFactory.create_batch(3, stage=LifecycleStage.MQL)

    assert handoff_sweep_task() == 3
    assert sla_check_task() == 0


def test_an_event_task_also_hands_off_a_waiting_burst_of_recent_mqls(queue):
    now = timezone.now()
    leads = LeadFactory.create_batch(5, stage=LifecycleStage.MQL, qualified_at=now)
    stale = LeadFactory(stage=LifecycleStage.MQL, qualified_at=now - datetime.timedelta(hours=2))

    handoff_lead_task(leads[0].pk)

    assert Assignment.objects.active().filter(lead__in=leads).count() == 5
    assert not Assignment.objects.filter(lead=stale).exists()  # left to the periodic sweep


def test_a_duplicate_task_costs_two_queries_and_still_picks_up_a_waiting_lead(queue, django_assert_num_queries):
    """Two queries in production; the test's transaction adds a savepoint and its release."""
    lead = LeadFactory(stage=LifecycleStage.MQL, qualified_at=timezone.now())
    first = handoff_lead_task(lead.pk)

    # the fast path (already assigned) and the empty backlog check
    with django_assert_num_queries(4):
        assert handoff_lead_task(lead.pk) == first

    waiting = LeadFactory(stage=LifecycleStage.MQL, qualified_at=timezone.now())
    handoff_lead_task(lead.pk)
    assert Assignment.objects.active().filter(lead=waiting).exists()
