"""Task-sending functions of crm: services call these, never ``crm.tasks`` (tasks import
services, so the other way round would be an import circle). Each sends the task by name once
the current transaction commits; routing by name is in settings."""

from __future__ import annotations

import logging

from django.db import transaction

from config.celery import app
from config.celery import send_task_on_commit as _send_on_commit

logger = logging.getLogger(__name__)


def handoff_queue_fill(queue_id: int) -> None:
    _send_on_commit("crm.tasks.handoff_queue_fill_task", queue_id)


def email_outbox_deliver(outbox_ids: list[int]) -> None:
    """Ring the e-mail doorbell after commit. The outbox rows are the record: a failed publish
    (broker down) is logged, not raised, and the resend job sends the rows later."""
    ids = list(outbox_ids)

    def ring() -> None:
        try:
            app.send_task("crm.tasks.email_outbox_deliver_task", args=[ids])
        except Exception:  # noqa: BLE001 - the committed change must not fail on the doorbell
            logger.warning("e-mail doorbell for outbox rows %s lost; the resend job sends them", ids, exc_info=True)

    transaction.on_commit(ring)
