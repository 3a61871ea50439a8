"""Concurrency and crashes: several sweeps at once, and a worker killed in the middle of one."""

import subprocess
import sys
import time

import pytest

from crm.models import Assignment, AssignmentStatus
from crm.services.handoff import handoff_sweep
from leads.api import Lead, LeadTransition, LifecycleStage
from tests.integration.conftest import ROOT, wait_until, worker_env
from tests.integration.handoff_helpers import (
    leads_with_more_than_one_active_assignment,
    make_mqls,
    make_queue,
    memberships_over_capacity,
)

SWEEP = """
import sys, time, pathlib, django
django.setup()
from crm.services.handoff import handoff_sweep
go = pathlib.Path(sys.argv[1])
while not go.exists():
    time.sleep(0.005)
print(handoff_sweep(batch_size=25), flush=True)
"""


@pytest.mark.slow
@pytest.mark.postgres
def test_four_sweeps_at_once_assign_every_mql_exactly_once_within_capacity(transactional_db, tmp_path):
    # 10 reps x 150 = 1,500 places for 2,000 MQLs: 500 must wait in the queue, unassigned.
    make_queue(reps=10, capacity=150)
    lead_ids = make_mqls(2000)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SWEEP, str(go)], cwd=ROOT, env=worker_env(), stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    time.sleep(1.5)  # let each process import Django and wait at the start line
    go.touch()
    handed = [int(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in procs]

    assert sum(handed) == 2000
    assert sum(1 for n in handed if n > 0) >= 2, f"the sweeps did not overlap: {handed}"
    active = Assignment.objects.active().filter(lead_id__in=lead_ids)
    assert active.values("lead_id").distinct().count() == 2000
    assert leads_with_more_than_one_active_assignment() == 0
    assert memberships_over_capacity() == []
    # A sweep that found every rep with room locked by another may have left a few leads
    # waiting; the next fill (here: the next sweep) gives them the remaining places.
    handoff_sweep()
    assert active.filter(status=AssignmentStatus.ASSIGNED).count() == 1500
    assert active.filter(status=AssignmentStatus.QUEUED, rep__isnull=True).count() == 500
    assert memberships_over_capacity() == []
    assert LeadTransition.objects.filter(to_stage=LifecycleStage.HANDED_OFF).count() == 1500


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_a_worker_killed_mid_sweep_leaves_every_mql_assigned_exactly_once_after_a_new_worker_starts(
    celery_worker_factory, monkeypatch
):
    from crm.tasks import handoff_sweep_task

    # Redis hands an unacknowledged task to another worker once this many seconds have passed.
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "2")
    monkeypatch.setenv("HANDOFF_SWEEP_BATCH_SIZE", "20")
    make_queue(reps=4, capacity=1000)
    lead_ids = make_mqls(600)
    first = celery_worker_factory(queues="handoff,handoff_sweep,sales", concurrency=1)

    handoff_sweep_task.delay()
    wait_until(lambda: Assignment.objects.count() >= 40, timeout=30, message="the sweep to be under way", interval=0.01)
    first.kill()  # SIGKILL to the whole process group, mid-batch

    done_before = Assignment.objects.count()
    assert 0 < done_before < 600, "the sweep was not interrupted"
    assert leads_with_more_than_one_active_assignment() == 0
    time.sleep(2.5)  # past the visibility timeout: the unacknowledged sweep is due again
    celery_worker_factory(queues="handoff,handoff_sweep,sales", concurrency=1)

    wait_until(
        lambda: Assignment.objects.active().count() == 600, timeout=60, message="the redelivered sweep to finish"
    )
    assert Assignment.objects.count() == 600
    assert leads_with_more_than_one_active_assignment() == 0
    assert Lead.objects.filter(pk__in=lead_ids, stage=LifecycleStage.HANDED_OFF).count() == 600
    assert LeadTransition.objects.filter(to_stage=LifecycleStage.HANDED_OFF).count() == 600
