"""Task-sending functions of leads (and the only way its services start a task).

Services call these; they never import ``leads.tasks`` (tasks import services, so the other
way round would be an import circle). Each sends the task by name once the current
transaction commits (``config.celery.send_task_on_commit``); routing by name is in settings.
"""

from __future__ import annotations

from config.celery import send_task_on_commit as send_on_commit


def score_lead(lead_id: int) -> None:
    send_on_commit("leads.tasks.score_lead_task", lead_id)


def leads_score_batch(lead_ids: list[int]) -> None:
    send_on_commit("leads.tasks.leads_score_batch_task", list(lead_ids))


def leads_rescore_all() -> None:
    send_on_commit("leads.tasks.leads_rescore_all_task")


def leads_qualify_ready() -> None:
    send_on_commit("leads.tasks.leads_qualify_ready_task")


def lead_import_run(import_id: int) -> None:
    send_on_commit("leads.tasks.lead_import_run_task", import_id)


def rule_set_rescore(version_id: int) -> None:
    send_on_commit("leads.tasks.rule_set_rescore_task", version_id)


def duplicates_find(lead_ids: list[int] | None = None) -> None:
    send_on_commit("leads.tasks.duplicates_find_task", list(lead_ids) if lead_ids is not None else None)
