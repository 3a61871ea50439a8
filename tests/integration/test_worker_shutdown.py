"""Issue 21 item 7: a worker stops within a few seconds of SIGTERM (no long "Warm shutdown"),
and the task it was running goes back to the queue for the next worker. Real worker
processes on the configured broker (Redis in CI)."""

import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import ping
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def _pings() -> Path:
    return Path(settings.VAR_DIR) / "pings"


def test_sigterm_stops_a_busy_worker_within_seconds_and_the_task_runs_again_elsewhere(celery_worker_factory):
    first = celery_worker_factory(queues="sales")  # prefork, as `make run` and production run it
    marker = f"held-{uuid.uuid4().hex}"
    ping.apply_async(args=[marker], kwargs={"hold": 60}, queue="sales")
    wait_until((_pings() / f"{marker}.started").exists, timeout=30, message="the worker to start the long task")

    sent_at = time.monotonic()
    os.killpg(first.proc.pid, signal.SIGTERM)
    first.proc.wait(timeout=30)
    stopped_after = time.monotonic() - sent_at

    # The soft-shutdown wait (4 s) plus the process exiting; a warm shutdown would take 60 s.
    assert stopped_after < settings.CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT + 10, first.log()
    assert not (_pings() / marker).exists(), "the task was cut short, not finished"

    (_pings() / f"{marker}.started").unlink()
    # Two processes: the re-queued 60 s task may arrive before the new worker's ready ping.
    celery_worker_factory(queues="sales", concurrency=2)
    wait_until(
        (_pings() / f"{marker}.started").exists, timeout=60, message="the re-queued task to start on the next worker"
    )


def test_an_idle_worker_stops_at_once_on_sigterm(celery_worker_factory):
    worker = celery_worker_factory(queues="sales")
    sent_at = time.monotonic()
    os.killpg(worker.proc.pid, signal.SIGTERM)
    worker.proc.wait(timeout=30)
    assert time.monotonic() - sent_at < 10, worker.log()
