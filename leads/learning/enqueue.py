"""Task-sending functions of learning: services call these, never ``leads.learning.tasks``
(tasks import services). Sent by name once the current transaction commits."""

from __future__ import annotations

from config.celery import send_task_on_commit as send_on_commit


def learned_apply(model_id: int | None) -> None:
    send_on_commit("leads.learning.tasks.learned_apply_task", model_id)


def learned_train(model_id: int) -> None:
    send_on_commit("leads.learning.tasks.learned_train_queued_task", model_id)
