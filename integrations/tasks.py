from celery import shared_task

from .webhooks import webhook_deliver, webhooks_sweep


@shared_task(name="integrations.tasks.webhook_deliver_task")
def webhook_deliver_task(delivery_ids: list[int]) -> list[str]:
    return [webhook_deliver(delivery_id=delivery_id) for delivery_id in delivery_ids]


@shared_task(name="integrations.tasks.webhooks_sweep_task")
def webhooks_sweep_task() -> int:
    return webhooks_sweep()
