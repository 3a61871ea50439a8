"""Erasure reaches the webhook outbox: after a person is erased no delivery row or delivery log
entry holds their name, e-mail or phone, and a delivery still pending is sent without them."""

import json

import pytest

from integrations.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from integrations.webhooks import EVENTS, outbox_record, subscription_create, webhook_deliver
from leads.models import Lead
from privacy.services import person_erase
from tests.integrations.receiver import Receiver
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db
NAME = ("Wilhelmina", "Quarrington")
EMAIL = "wilhelmina.q@quarry.example"
PHONE = "+49 30 5550123"
TERMS = (*NAME, EMAIL, PHONE)


def _rows() -> str:
    return json.dumps(
        [list(WebhookDelivery.objects.values()), list(WebhookAttempt.objects.values())], default=str
    ).lower()


def _found(text: str) -> list[str]:
    return [t for t in TERMS if t.lower() in text.lower()]


def test_after_an_erasure_no_delivery_names_the_person_and_pending_ones_are_sent_without_them(
    api_for, marketer, manager
):
    with Receiver() as receiver:
        subscription_create(actor=manager, name="warehouse", url=receiver.url, events=list(EVENTS))
        response = api_for(marketer).post(
            "/api/leads/",
            {"email": EMAIL, "first_name": NAME[0], "last_name": NAME[1], "phone": PHONE},
            format="json",
        )
        lead = Lead.objects.get(pk=response.json()["id"])
        (created,) = WebhookDelivery.objects.filter(event="lead.created")
        assert webhook_deliver(delivery_id=created.pk) == "delivered"
        (feedback,) = outbox_record(
            event="customer.feedback",
            payloads=[{"feedback": 7, "lead": lead.pk, "rating": 9, "comment": f"{NAME[0]}: great, call {PHONE}"}],
        )
        (rejected,) = outbox_record(
            event="assignment.rejected",
            payloads=[{"assignment": 3, "lead": lead.pk, "status": "rejected", "reason": f"{NAME[1]} left"}],
        )
        WebhookAttempt.objects.create(delivery_id=rejected, number=1, error=f"HTTP 500 for {EMAIL}")
        other = LeadFactory(first_name="Otto")
        (quoting,) = outbox_record(
            event="customer.feedback",
            payloads=[{"lead": other.pk, "rating": 7, "comment": f"Otto, colleague of {EMAIL}"}],
        )
        assert _found(_rows()) == list(TERMS)

        audit = person_erase(lead_id=lead.pk, actor=manager)

        assert _found(_rows()) == []
        assert audit.rows_changed["webhook_deliveries"] == 4 and audit.rows_changed["webhook_attempts"] == 1
        # what receivers and reports match on stays
        kept = WebhookDelivery.objects.get(pk=feedback)
        assert (kept.payload["lead"], kept.payload["rating"], kept.payload["comment"]) == (lead.pk, 9, "")
        assert WebhookDelivery.objects.get(pk=created.pk).payload["email"] == f"erased-{lead.pk}@erased.invalid"
        assert WebhookDelivery.objects.get(pk=quoting).payload["comment"] == "Otto, colleague of [erased]"

        pending = list(WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True))
        assert sorted(pending) == sorted([feedback, rejected, quoting])
        for delivery_id in pending:
            assert webhook_deliver(delivery_id=delivery_id) == "delivered"

    sent_after = b"".join(r["body"] for r in receiver.requests[1:]).decode()
    assert len(receiver.requests) == 4
    assert _found(sent_after) == []
    assert str(lead.pk) in sent_after


def test_an_erasure_leaves_other_peoples_deliveries_alone(manager):
    subscription_create(actor=manager, name="warehouse", url="http://127.0.0.1:9/hooks", events=list(EVENTS))
    person = LeadFactory(first_name=NAME[0], last_name=NAME[1], email=EMAIL, phone="")
    other = LeadFactory(first_name=NAME[0], last_name="Other", email="w.other@example.com")
    (theirs,) = outbox_record(
        event="customer.feedback", payloads=[{"lead": other.pk, "comment": f"{NAME[0]} Other is happy"}]
    )

    person_erase(lead_id=person.pk, actor=manager)

    assert WebhookDelivery.objects.get(pk=theirs).payload["comment"] == f"{NAME[0]} Other is happy"
