"""Webhooks: the outbox written with the change, delivery to a real local HTTP receiver
(signature, event id, retries with backoff, giving up, disabling), redelivery, targets."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm.models import Notification
from crm.services.calls import call_log
from crm.services.deals import deal_close
from crm.services.handoff import assignment_accept, assignment_reject
from integrations.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.targets import target_check
from integrations.webhooks import (
    EVENTS,
    delivery_redeliver,
    subscription_create,
    webhook_deliver,
    webhooks_sweep,
)
from leads.lifecycle import lead_transition
from leads.models import LifecycleStage
from leads.services import lead_handed_off
from tests.crm.factories import AssignmentFactory, DealFactory
from tests.integrations.receiver import Receiver, verify
from tests.leads.factories import LeadFactory
from tests.sent_tasks import record_sent_tasks

pytestmark = pytest.mark.django_db
S = LifecycleStage


@pytest.fixture
def sent(monkeypatch):
    return record_sent_tasks(monkeypatch)


def subscribe(manager, url="http://127.0.0.1:9/hooks", events=EVENTS):
    return subscription_create(actor=manager, name="warehouse", url=url, events=list(events))


def deliveries(event=None):
    qs = WebhookDelivery.objects.order_by("pk")
    return list(qs.filter(event=event) if event else qs)


# --- the outbox --------------------------------------------------------------------------------


def test_a_new_lead_writes_its_event_to_the_outbox_and_rings_after_commit(
    api_for, marketer, manager, sent, django_capture_on_commit_callbacks
):
    sub = subscribe(manager, events=["lead.created"])

    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(marketer).post("/api/leads/", {"email": "new@example.com"}, format="json")

    (delivery,) = deliveries()
    assert (delivery.subscription, delivery.event) == (sub, "lead.created")
    assert delivery.payload["lead"] == response.json()["id"] and delivery.payload["email"] == "new@example.com"
    assert ("integrations.tasks.webhook_deliver_task", ([delivery.pk],)) in sent


def test_a_rolled_back_change_leaves_no_event(manager):
    subscribe(manager, events=["lead.qualified"])
    lead = LeadFactory(stage=S.ENGAGED)

    with pytest.raises(RuntimeError), transaction.atomic():
        lead_transition(lead_id=lead.pk, to_stage=S.MQL)
        assert len(deliveries()) == 1  # written in the same transaction...
        raise RuntimeError

    assert deliveries() == []  # ...and gone with it


def test_only_active_subscriptions_that_want_the_event_get_it(manager):
    wants = subscribe(manager, events=["lead.qualified"])
    subscribe(manager, events=["deal.won"])
    off = subscribe(manager, events=["lead.qualified"])
    WebhookSubscription.objects.filter(pk=off.pk).update(is_active=False)

    lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)

    assert [d.subscription_id for d in deliveries()] == [wants.pk]


def test_nothing_is_written_when_nobody_listens(django_assert_num_queries):
    lead = LeadFactory(stage=S.ENGAGED)

    lead_transition(lead_id=lead.pk, to_stage=S.MQL)

    assert deliveries() == []


def test_every_subscription_gets_the_same_event_id(manager):
    a, b = subscribe(manager, events=["lead.qualified"]), subscribe(manager, events=["lead.qualified"])

    lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)

    first, second = deliveries()
    assert {first.subscription_id, second.subscription_id} == {a.pk, b.pk}
    assert first.event_id == second.event_id


def test_every_event_kind_is_announced_by_the_service_that_makes_the_change(manager, rep):
    subscribe(manager)
    lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)
    handed = LeadFactory(stage=S.MQL)
    lead_handed_off(lead_id=handed.pk, owner=rep)
    accepted = AssignmentFactory(rep=rep, lead=LeadFactory(owner=rep, stage=S.HANDED_OFF))
    assignment_accept(assignment_id=accepted.pk, actor=rep)
    rejected = AssignmentFactory(rep=rep, lead=LeadFactory(owner=rep, stage=S.HANDED_OFF))
    assignment_reject(assignment_id=rejected.pk, reason="no_budget", actor=rep)
    call_log(rep=rep, outcome="connected", lead_id=accepted.lead_id)
    won = DealFactory(owner=rep, lead=LeadFactory(owner=rep, stage=S.OPPORTUNITY))
    deal_close(deal_id=won.pk, won=True, actor=rep)
    lost = DealFactory(owner=rep, lead=LeadFactory(owner=rep, stage=S.OPPORTUNITY))
    deal_close(deal_id=lost.pk, won=False, lost_reason="price", actor=rep)
    from campaigns.services.feedback import feedback_record

    feedback_record(lead_id=won.lead_id, rating=9, comment="great", actor=rep)
    from leads.intake import lead_create

    lead_create(data={"email": "fresh@example.com"})

    assert {d.event for d in deliveries()} == set(EVENTS)
    assert deliveries("deal.lost")[0].payload["lost_reason"] == "price"
    assert deliveries("assignment.rejected")[0].payload["reason"] == "no_budget"
    assert deliveries("lead.handed_off")[0].payload["lead"] == handed.pk


# --- delivery to a real receiver ----------------------------------------------------------------


def test_a_delivery_reaches_the_receiver_signed_with_the_event_id(manager):
    with Receiver() as receiver:
        sub = subscribe(manager, url=receiver.url, events=["lead.qualified"])
        lead = LeadFactory(stage=S.ENGAGED)
        lead_transition(lead_id=lead.pk, to_stage=S.MQL)
        (delivery,) = deliveries()

        assert webhook_deliver(delivery_id=delivery.pk) == "delivered"

    (request,) = receiver.requests
    body = receiver.events()[0]
    assert verify(sub.secret, request)
    assert not verify("another secret", request)
    assert request["headers"]["X-Baton-Event-Id"] == str(delivery.event_id) == body["id"]
    assert request["headers"]["X-Baton-Event"] == "lead.qualified" == body["event"]
    assert request["headers"]["Content-Type"] == "application/json"
    assert body["data"]["lead"] == lead.pk and body["data"]["to_stage"] == "mql"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.delivered_at and delivery.attempts == 1
    attempt = WebhookAttempt.objects.get()
    assert (attempt.number, attempt.status_code, attempt.succeeded) == (1, 200, True)


def test_a_tampered_body_fails_the_signature_check(manager):
    with Receiver() as receiver:
        sub = subscribe(manager, url=receiver.url, events=["lead.qualified"])
        lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)
        webhook_deliver(delivery_id=deliveries()[0].pk)

    request = dict(receiver.requests[0])
    request["body"] = request["body"].replace(b'"mql"', b'"sal"')
    assert not verify(sub.secret, request)


def test_a_failed_attempt_is_logged_and_retried_with_growing_jittered_backoff(
    manager, settings, sent, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 10
    with Receiver(plan=[500, 503, 200]) as receiver, django_capture_on_commit_callbacks(execute=True):
        subscribe(manager, url=receiver.url, events=["lead.qualified"])
        lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)
        (delivery,) = deliveries()
        delays = []
        for _ in range(2):
            before = timezone.now()
            assert webhook_deliver(delivery_id=delivery.pk) == "retry"
            delivery.refresh_from_db()
            delays.append((delivery.next_attempt_at - before).total_seconds())
            assert webhook_deliver(delivery_id=delivery.pk) == "skipped"  # not due yet
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert webhook_deliver(delivery_id=delivery.pk) == "delivered"

    assert 5 <= delays[0] <= 15 and 10 <= delays[1] <= 30  # 10 s then 20 s, each x 0.5-1.5
    assert [r["headers"]["X-Baton-Event-Id"] for r in receiver.requests] == [str(delivery.event_id)] * 3
    assert list(WebhookAttempt.objects.order_by("number").values_list("status_code", "succeeded")) == [
        (500, False),
        (503, False),
        (200, True),
    ]
    retries = [args for name, args in sent if name == "integrations.tasks.webhook_deliver_task"]
    assert len(retries) == 3  # the first ring + one countdown per failure


def test_a_connection_error_is_a_failed_attempt(manager):
    subscribe(manager, url="http://127.0.0.1:9/hooks", events=["lead.qualified"])  # nothing listens on 9
    lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)
    (delivery,) = deliveries()

    assert webhook_deliver(delivery_id=delivery.pk) == "retry"

    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "ConnectionError" in attempt.error


def test_a_delivery_gives_up_when_its_24_hour_window_ends(manager, settings):
    with Receiver(plan=lambda n, e: 500) as receiver:
        subscribe(manager, url=receiver.url, events=["lead.qualified"])
        lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)
        (delivery,) = deliveries()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(retry_until=timezone.now() + timedelta(milliseconds=100))

        assert webhook_deliver(delivery_id=delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_status_code == 500


def test_a_subscription_failing_long_enough_is_disabled_and_its_maker_told(manager, settings):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOKS_DISABLE_AFTER_SECONDS = 0
    with Receiver(plan=lambda n, e: 500) as receiver:
        sub = subscribe(manager, url=receiver.url, events=["lead.qualified"])
        lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)
        (delivery,) = deliveries()
        for _ in range(3):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            webhook_deliver(delivery_id=delivery.pk)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())

        assert webhook_deliver(delivery_id=delivery.pk) == "skipped"  # a disabled subscription sends nothing

    sub.refresh_from_db()
    assert not sub.is_active and "3 failed attempts" in sub.disabled_reason
    note = Notification.objects.get(user=manager)
    assert note.kind == "webhook_disabled" and "warehouse" in note.message


def test_a_success_resets_the_failure_count(manager, settings):
    with Receiver(plan=[500, 200]) as receiver:
        sub = subscribe(manager, url=receiver.url, events=["lead.qualified"])
        lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)
        (delivery,) = deliveries()
        webhook_deliver(delivery_id=delivery.pk)
        sub.refresh_from_db()
        assert sub.consecutive_failures == 1
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        webhook_deliver(delivery_id=delivery.pk)

    sub.refresh_from_db()
    assert sub.consecutive_failures == 0 and sub.failing_since is None


def test_redeliver_sends_a_delivered_event_again_with_the_same_id(manager, sent):
    with Receiver() as receiver:
        subscribe(manager, url=receiver.url, events=["lead.qualified"])
        lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)
        (delivery,) = deliveries()
        webhook_deliver(delivery_id=delivery.pk)

        delivery_redeliver(actor=manager, delivery_id=delivery.pk)
        assert webhook_deliver(delivery_id=delivery.pk) == "delivered"

    ids = [r["headers"]["X-Baton-Event-Id"] for r in receiver.requests]
    assert ids == [str(delivery.event_id)] * 2
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


def test_only_managers_register_subscriptions_or_redeliver(rep, marketer, manager):
    from django.core.exceptions import PermissionDenied

    for user in (rep, marketer):
        with pytest.raises(PermissionDenied):
            subscribe(user)
    sub = subscribe(manager, events=["lead.qualified"])
    lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)
    with pytest.raises(PermissionDenied):
        delivery_redeliver(actor=rep, delivery_id=deliveries()[0].pk)
    assert sub.secret and len(sub.secret) == 64


def test_the_sweep_rings_due_deliveries_not_held_by_a_worker(manager, sent):
    subscribe(manager, events=["lead.qualified"])
    for _ in range(3):
        lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)
    due, held, later = deliveries()
    WebhookDelivery.objects.filter(pk=held.pk).update(leased_until=timezone.now() + timedelta(minutes=1))
    WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    sent.clear()

    assert webhooks_sweep() == 1

    assert sent == [("integrations.tasks.webhook_deliver_task", ([due.pk],))]


# --- where a webhook may point ----------------------------------------------------------------


@pytest.fixture
def production_rules(settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hooks",  # not https
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://172.16.0.1/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://0.0.0.0/hooks",
        "https://user:pw@93.184.216.34/hooks",
        "ftp://93.184.216.34/hooks",
        "https://no-such-host.invalid/hooks",
    ],
)
def test_production_refuses_plain_http_and_private_loopback_or_link_local_targets(production_rules, url):
    with pytest.raises(ValidationError) as error:
        target_check(url)

    assert "url" in error.value.message_dict


def test_production_accepts_a_public_https_address(production_rules):
    target_check("https://93.184.216.34/hooks")


def test_a_target_that_turned_private_after_registration_is_not_sent_to(manager, settings):
    with Receiver() as receiver:
        subscribe(manager, url=receiver.url, events=["lead.qualified"])
        lead_transition(lead_id=LeadFactory(stage=S.ENGAGED).pk, to_stage=S.MQL)
        settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

        assert webhook_deliver(delivery_id=deliveries()[0].pk) == "retry"

    assert receiver.requests == []
    assert "private or local address" in WebhookAttempt.objects.get().error
