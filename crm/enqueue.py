"""Task-sending functions of crm: services call these, never ``crm.tasks`` (tasks import
services, so the other way round would be an import circle). Each sends the task by name once
the current transaction commits; routing by name is in settings."""

from __future__ import annotations

from config.celery import send_task_on_commit as _send_on_commit


def handoff_queue_fill(queue_id: int) -> None:
    _send_on_commit("crm.tasks.handoff_queue_fill_task", queue_id)


def notification_email(notification_ids: list[int]) -> None:
    _send_on_commit("crm.tasks.notification_email_task", list(notification_ids))
