"""The sweep has its own queue: behind thousands of queued hand-off messages it still runs at
once on a worker that consumes both queues."""

import re

import pytest

from config.celery import app
from crm.tasks import handoff_sweep_task
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def succeeded(worker, task: str) -> int:
    return len(re.findall(rf"{task}\[[^\]]+\] succeeded", worker.log_path.read_text()))


def test_the_sweep_does_not_wait_behind_a_hand_off_backlog(celery_worker_factory):
    worker = celery_worker_factory(queues="handoff,handoff_sweep,sales", concurrency=1)
    backlog = 1500
    for lead_id in range(10_000_000, 10_000_000 + backlog):  # no such leads: each a quick no-op
        app.send_task("crm.tasks.handoff_lead_task", args=[lead_id])

    handoff_sweep_task.delay()

    wait_until(lambda: succeeded(worker, "handoff_sweep_task"), timeout=120, message="the sweep to run")
    done_before = succeeded(worker, "handoff_lead_task")
    assert done_before < backlog / 4, f"the sweep ran only after {done_before} of {backlog} hand-off messages"
