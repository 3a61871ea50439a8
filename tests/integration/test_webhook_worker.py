"""Webhooks with a real Celery worker and a real local HTTP receiver: delivered and signed,
retried after failures, and never lost when the worker is SIGKILLed in the middle of a send."""

import pytest

from integrations.models import DeliveryStatus, WebhookDelivery
from integrations.webhooks import subscription_create, webhooks_sweep
from leads.lifecycle import lead_transition
from leads.models import Lead, LifecycleStage
from tests.integration.conftest import wait_until
from tests.integrations.receiver import Receiver, verify

pytestmark = pytest.mark.django_db(transaction=True)
S = LifecycleStage


def qualify(n: int) -> list[int]:
    ids = []
    for i in range(n):
        lead = Lead.objects.create(email=f"w{i}@example.com", stage=S.ENGAGED)
        lead_transition(lead_id=lead.pk, to_stage=S.MQL)  # commits: the outbox row and its doorbell
        ids.append(lead.pk)
    return ids


def delivered() -> int:
    return WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count()


def test_a_worker_delivers_signed_events_and_retries_the_failed_first_attempts(celery_worker_factory, manager):
    seen: set[str] = set()

    def fail_first_attempt(number, event_id):
        if event_id in seen:
            return 200
        seen.add(event_id)
        return 500

    with Receiver(plan=fail_first_attempt) as receiver:
        sub = subscription_create(actor=manager, name="wh", url=receiver.url, events=["lead.qualified"])
        celery_worker_factory(queues="webhooks", concurrency=2, env={"WEBHOOKS_RETRY_BASE_SECONDS": "0.2"})
        ids = qualify(5)

        wait_until(lambda: delivered() == 5, timeout=60, message="every event to be delivered")

    assert len(receiver.requests) == 10  # each event: one 500, then one 200
    assert all(verify(sub.secret, r) for r in receiver.requests)
    assert sorted(e["data"]["lead"] for e in receiver.events()) == sorted(ids + ids)
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {2}


def test_the_outbox_survives_a_worker_sigkilled_mid_send(celery_worker_factory, manager):
    def hang_on_the_first_request(number, event_id):
        return -1 if number == 0 else 200

    env = {"WEBHOOKS_LEASE_SECONDS": "3", "WEBHOOKS_TIMEOUT_SECONDS": "30"}
    with Receiver(plan=hang_on_the_first_request, hang_seconds=20) as receiver:
        subscription_create(actor=manager, name="wh", url=receiver.url, events=["lead.qualified"])
        worker = celery_worker_factory(queues="webhooks", concurrency=1, env=env)
        qualify(1)
        wait_until(lambda: len(receiver.requests) == 1, timeout=30, message="the worker to be mid-send")

        worker.kill()  # SIGKILL to the whole worker, while the receiver holds the request
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1 and delivery.leased_until

        celery_worker_factory(queues="webhooks", concurrency=1, env=env)
        # The sweep (beat's job) rings for it once the dead worker's lease has run out.
        wait_until(lambda: webhooks_sweep() or delivered(), timeout=30, interval=0.5, message="the sweep to ring")
        wait_until(lambda: delivered() == 1, timeout=30, message="the event to be delivered after the kill")

    delivery.refresh_from_db()
    event_ids = [r["headers"]["X-Baton-Event-Id"] for r in receiver.requests]
    assert event_ids == [str(delivery.event_id)] * 2  # at least once, same id for the receiver's dedupe
    assert delivery.attempts == 2
