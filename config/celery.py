"""The Celery app. Queues: `marketing` (scoring, imports, training), `handoff` (routing and
assignment), `handoff_sweep` (the periodic recovery jobs: the hand-off sweep, the SLA check, the
e-mail resend, so recovery never waits behind a hand-off backlog), `sales` (notifications), `webhooks`
(integrations: webhook deliveries).
Routing by name lives in settings."""

import logging
import os

from celery import Celery
from kombu import Exchange, Queue
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# SIGTERM (docker stop, the supervisor, Ctrl-C in `make run`) is a cold shutdown after the
# soft-shutdown wait (CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT): the worker stops within seconds
# and gives back what it held (acks_late tasks go back to the queue) instead of sitting in
# "Warm shutdown" until its longest task ends. Read by celery.apps.worker when it is imported,
# which is after this module.
os.environ.setdefault("REMAP_SIGTERM", "SIGQUIT")

QUEUE_NAMES = ("marketing", "handoff", "handoff_sweep", "sales", "webhooks")

app = Celery("baton")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue has its own direct exchange and routing key, so a message reaches exactly one
# queue on any broker.
app.conf.task_queues = tuple(Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUE_NAMES)
app.autodiscover_tasks()


@app.task(name="config.ping", queue="sales", acks_late=True, reject_on_worker_lost=True)
def ping(marker: str = "", hold: float = 0.0) -> str:
    """A no-op round trip: proves a worker is alive and measures the broker's floor.

    With a marker it leaves a file named after it under var/pings, which the sender (another
    process) can see without a result backend. ``hold`` (seconds, at most 120) keeps the
    worker busy first, leaving ``<marker>.started``: a stand-in for a long task when testing
    shutdown and re-delivery. Idempotent (it only writes files), so ``acks_late`` is safe.
    """
    if marker:
        import time
        from pathlib import Path

        from django.conf import settings

        pings = Path(settings.VAR_DIR) / "pings"
        pings.mkdir(parents=True, exist_ok=True)
        if hold:
            (pings / f"{marker}.started").write_text(marker)
            time.sleep(min(float(hold), 120.0))
        (pings / marker).write_text(marker)
    return marker


def send_task_on_commit(name: str, *args) -> None:
    """Send the task ``name`` once the current transaction commits (at once outside one).

    What every app's ``enqueue.py`` uses: sending by name, services never import tasks."""
    from django.db import transaction

    def ring() -> None:
        # The change is committed and the database is the record of truth: a broker that is
        # down must not turn a saved change into a 500. The beat jobs that read the database
        # (qualify-ready, the e-mail and webhook sweeps, the nightly re-score) pick it up.
        try:
            app.send_task(name, args=list(args))
        except (OperationalError, OSError):
            logging.getLogger("baton.celery").exception(
                "could not send %s after commit; the beat jobs will catch up", name
            )

    transaction.on_commit(ring)
