from celery import shared_task

from .services import retention_run


@shared_task(name="privacy.tasks.retention_run_task")
def retention_run_task() -> dict:
    return retention_run()
