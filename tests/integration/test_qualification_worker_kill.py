"""A worker process SIGKILLed in the middle of qualification: the task is delivered again and
every lead over the threshold ends MQL exactly once."""

import os
import signal
from pathlib import Path

import pytest
from django.db.models import Count
from django.utils import timezone

from config.celery import app
from leads.models import Lead, LeadTransition, LifecycleStage, ScoringPolicy
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
N = 800


def pool_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def leads_over_the_threshold(n: int) -> None:
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": 50, "fit_minimum": 0})
    now = timezone.now()
    Lead.objects.bulk_create(
        Lead(email=f"hot{i}@example.com", stage=LifecycleStage.NEW, score=80, fit_score=10, scored_at=now)
        for i in range(n)
    )
    Lead.objects.create(email="cold@example.com", stage=LifecycleStage.NEW, score=10, fit_score=10, scored_at=now)


def mql_count() -> int:
    return Lead.objects.filter(stage=LifecycleStage.MQL).count()


def test_a_pool_process_killed_during_qualification_leaves_no_lead_behind_and_none_moved_twice(
    celery_worker_factory,
):
    leads_over_the_threshold(N)
    worker = celery_worker_factory(queues="marketing", concurrency=1)

    app.send_task("leads.tasks.leads_qualify_ready_task", args=[N])  # one task for all of them
    wait_until(lambda: mql_count() >= 100, timeout=60, message="qualification to be under way")
    (child,) = pool_children(worker.proc.pid)
    os.kill(child, signal.SIGKILL)
    killed_at = mql_count()

    wait_until(lambda: mql_count() == N, timeout=120, message="every hot lead to be MQL after the kill")
    assert killed_at < N, "the kill landed after qualification had finished; nothing was proven"
    assert "WorkerLostError" in worker.log_path.read_text()
    per_lead = LeadTransition.objects.filter(to_stage=LifecycleStage.MQL).values("lead").annotate(n=Count("pk"))
    assert per_lead.count() == N
    assert per_lead.filter(n__gt=1).count() == 0
    assert Lead.objects.get(email="cold@example.com").stage == LifecycleStage.NEW


def test_a_whole_worker_killed_during_qualification_is_made_good_by_the_next_run(celery_worker_factory):
    """The worker's main process dies too: its unacknowledged message waits for the visibility
    timeout, and the beat job's next run (sent here as beat would) moves the rest, once each."""
    leads_over_the_threshold(N)
    worker = celery_worker_factory(queues="marketing", concurrency=1)
    app.send_task("leads.tasks.leads_qualify_ready_task", args=[N])
    wait_until(lambda: mql_count() >= 100, timeout=60, message="qualification to be under way")

    worker.kill()
    killed_at = mql_count()
    celery_worker_factory(queues="marketing", concurrency=1)
    app.send_task("leads.tasks.leads_qualify_ready_task")

    wait_until(lambda: mql_count() == N, timeout=120, message="every hot lead to be MQL")
    assert killed_at < N
    per_lead = LeadTransition.objects.filter(to_stage=LifecycleStage.MQL).values("lead").annotate(n=Count("pk"))
    assert (per_lead.count(), per_lead.filter(n__gt=1).count()) == (N, 0)
