"""A real Celery worker process for integration tests.

The worker runs `celery -A config worker` in a subprocess against the test database (the
one pytest-django created) and the configured broker: Redis in CI, kombu's filesystem
transport on the embedded default.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")


def test_database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] or ""
    if s["PASSWORD"]:
        auth += f":{s['PASSWORD']}"
    host = s["HOST"] or "127.0.0.1"
    port = s["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


def worker_env(**extra) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=test_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        BATON_VAR_DIR=str(settings.VAR_DIR),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def purge_queues() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in ("marketing", "handoff", "handoff_sweep", "sales", "webhooks"):
            # A queue that does not exist yet has nothing to purge.
            with contextlib.suppress(Exception):
                channel.queue_purge(queue)


class WorkerProcess:
    def __init__(self, queues: str, concurrency: int, pool: str, log_path: Path, env: dict | None = None):
        self.queues, self.concurrency, self.pool, self.log_path = queues, concurrency, pool, log_path
        self.env = env or {}
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                self.queues,
                "-l",
                "info",
                "--pool",
                self.pool,
                "--concurrency",
                str(self.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=worker_env(**self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        from config.celery import ping

        marker = f"ready-{uuid.uuid4().hex}"
        # Ping on a queue this worker consumes, whichever it is.
        ping.apply_async(args=[marker], queue=self.queues.split(",")[0])
        path = Path(settings.VAR_DIR) / "pings" / marker
        try:
            wait_until(path.exists, timeout=timeout, message="the worker to answer a ping")
        except AssertionError:
            log = self.log()
            self.kill()  # never leave a half-started worker behind to eat later tests' tasks
            raise AssertionError(f"worker did not start; log:\n{log}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def celery_worker_factory(transactional_db, tmp_path):
    """Start real worker processes: ``start(queues="handoff", concurrency=2)``; ``env`` adds
    environment variables for the worker (e.g. a file e-mail backend)."""
    purge_queues()
    workers: list[WorkerProcess] = []

    def start(
        queues: str = "marketing,handoff,handoff_sweep,sales",
        concurrency: int = 1,
        pool: str = "prefork",
        env: dict | None = None,
    ):
        worker = WorkerProcess(queues, concurrency, pool, tmp_path / f"worker-{len(workers)}.log", env)
        workers.append(worker)  # before starting, so teardown stops it even if it never gets ready
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
    purge_queues()


@pytest.fixture
def celery_worker(celery_worker_factory):
    return celery_worker_factory()
