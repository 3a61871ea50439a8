"""The event path: marketing qualifies a lead, the worker hands it off, no sweep involved."""

import re

import pytest
from django.test import Client

from crm.models import Assignment, AssignmentStatus
from crm.tasks import handoff_lead_task
from leads.api import Lead, LifecycleStage
from tests.integration.conftest import wait_until
from tests.integration.handoff_helpers import make_queue, qualify
from tests.leads.factories import LeadFactory


def test_a_lead_qualified_in_a_web_request_is_assigned_by_the_worker_without_a_sweep(celery_worker_factory, settings):
    """Marketing's own qualification (``leads.api.lead_score``) runs inside a request; the
    request commits and returns, and the worker alone makes the assignment."""
    from django.http import HttpResponse
    from django.urls import path

    from leads.api import lead_score
    from leads.models import ScoringPolicy

    queue = make_queue(reps=1)
    ScoringPolicy.objects.create(pk=1, threshold=0, fit_minimum=0)  # every contactable lead qualifies
    lead = LeadFactory(stage=LifecycleStage.NEW)

    def score_view(request, lead_id):
        lead_score(lead_id=lead_id)
        return HttpResponse("scored")

    # A minimal endpoint around marketing's scoring service, in a real request cycle.
    urlconf = type("urls", (), {"urlpatterns": [path("score/<int:lead_id>/", score_view)]})
    settings.ROOT_URLCONF = urlconf
    worker = celery_worker_factory(queues="handoff,sales", concurrency=1)

    response = Client().post(f"/score/{lead.pk}/")

    assert response.status_code == 200
    assignment = wait_until(
        lambda: Assignment.objects.filter(lead=lead).first(), timeout=20, message="the worker's assignment"
    )
    assert (assignment.status, assignment.queue_id) == (AssignmentStatus.ASSIGNED, queue.pk)
    assert Lead.objects.get(pk=lead.pk).stage == LifecycleStage.HANDED_OFF
    assert "handoff_lead_task[" in worker.log()
    assert "handoff_sweep_task[" not in worker.log()


def test_the_same_task_delivered_twice_at_once_makes_one_assignment(celery_worker_factory):
    make_queue(reps=2)
    lead = LeadFactory(stage=LifecycleStage.MQL)
    worker = celery_worker_factory(queues="handoff,sales", concurrency=2)

    handoff_lead_task.delay(lead.pk)
    handoff_lead_task.delay(lead.pk)

    pattern = re.compile(r"handoff_lead_task\[[^\]]+\] succeeded in [^:]+: (\d+)")
    results = wait_until(
        lambda: (found := pattern.findall(worker.log())) and len(found) == 2 and found,
        timeout=20,
        message=f"both deliveries to finish; log:\n{worker.log()}",
    )
    assignment = Assignment.objects.get(lead=lead)
    assert results == [str(assignment.pk)] * 2

    # A retry long after the fact is the same no-op.
    assert handoff_lead_task.apply(args=[lead.pk]).get() == assignment.pk
    assert Assignment.objects.filter(lead=lead).count() == 1


@pytest.mark.redis
def test_a_lead_qualified_while_redis_is_down_is_handed_off_by_the_sweep_once_it_is_back(
    celery_worker_factory, monkeypatch
):
    from config.celery import app
    from crm.tasks import handoff_sweep_task

    make_queue(reps=1)
    lead = LeadFactory(stage=LifecycleStage.ENGAGED)
    celery_worker_factory(queues="handoff,handoff_sweep,sales", concurrency=1)

    # The broker this process publishes to is unreachable (a closed port) while the lead
    # qualifies. The shared Redis server itself is never touched.
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {"socket_connect_timeout": 0.2})
    monkeypatch.setitem(app.conf, "task_publish_retry", False)
    monkeypatch.setattr(app, "_pool", None)
    qualify(lead.pk)  # the receiver's publish fails; the request does not
    assert Lead.objects.get(pk=lead.pk).stage == LifecycleStage.MQL
    assert not Assignment.objects.filter(lead=lead).exists()
    monkeypatch.undo()
    app._pool = None

    handoff_sweep_task.delay()  # what beat sends every minute

    wait_until(lambda: Assignment.objects.filter(lead=lead).exists(), timeout=20, message="the sweep")
    assert Assignment.objects.active().filter(lead=lead).count() == 1
    assert Lead.objects.get(pk=lead.pk).stage == LifecycleStage.HANDED_OFF
