"""The Celery app. Queues: `marketing` (scoring, imports, training), `handoff` (routing and
assignment), `sales` (notifications, SLA). Routing by module lives in settings."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("baton")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("marketing"), Queue("handoff"), Queue("sales"))
app.autodiscover_tasks()


@app.task(name="config.ping")
def ping(marker: str = "") -> str:
    """A no-op used to measure the broker round trip and to prove a worker is alive."""
    return marker
