"""Task-sending functions of integrations (its services never import its tasks)."""

from __future__ import annotations

from config.celery import app, send_task_on_commit

DELIVER = "integrations.tasks.webhook_deliver_task"
# Up to this many deliveries get a task each; a bigger burst is sent in chunks.
ONE_TASK_EACH = 200
CHUNK = 20


def _chunks(ids: list[int]) -> list[list[int]]:
    size = 1 if len(ids) <= ONE_TASK_EACH else CHUNK
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def webhook_deliver_on_commit(ids: list[int]) -> None:
    for chunk in _chunks(list(ids)):
        send_task_on_commit(DELIVER, chunk)


def webhook_deliver_now(ids: list[int]) -> None:
    for chunk in _chunks(list(ids)):
        app.send_task(DELIVER, args=[chunk])


def webhook_retry(delivery_id: int, delay_seconds: float) -> None:
    """Ring again after the backoff; a retry further off than the sweep's period is left to
    the sweep (no message sits in a worker's memory for hours)."""
    from django.conf import settings

    if delay_seconds <= settings.WEBHOOKS_RETRY_COUNTDOWN_MAX_SECONDS:
        send_task_on_commit_countdown(DELIVER, [delivery_id], countdown=delay_seconds)


def send_task_on_commit_countdown(name: str, *args, countdown: float) -> None:
    from django.db import transaction

    transaction.on_commit(lambda: app.send_task(name, args=list(args), countdown=countdown))
