import pytest
from django.utils import timezone

from integrations.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from integrations.webhooks import subscription_create
from leads.lifecycle import lead_transition
from leads.models import LifecycleStage
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def a_subscription(manager, **kw):
    return subscription_create(
        actor=manager, name=kw.get("name", "warehouse"), url="http://127.0.0.1:9/h", events=["lead.qualified"]
    )


def qualified_leads(n):
    for _ in range(n):
        lead_transition(lead_id=LeadFactory(stage=LifecycleStage.ENGAGED).pk, to_stage=LifecycleStage.MQL)


@pytest.mark.parametrize("role", ["rep", "other_rep", "marketer"])
def test_only_managers_see_the_webhook_pages(client_for, manager, request, role):
    sub = a_subscription(manager)
    qualified_leads(1)
    delivery = WebhookDelivery.objects.get()
    client = client_for(request.getfixturevalue(role))

    for url in (
        "/integrations/webhooks/",
        f"/integrations/webhooks/{sub.pk}/",
        f"/integrations/deliveries/{delivery.pk}/",
    ):
        assert client.get(url).status_code == 403
    assert client.post(f"/integrations/deliveries/{delivery.pk}/redeliver/").status_code == 403
    assert client.post(f"/integrations/webhooks/{sub.pk}/toggle/").status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    assert "/accounts/login/" in client.get("/integrations/webhooks/")["Location"]


def test_a_manager_registers_a_webhook_on_the_page(client_for, manager):
    response = client_for(manager).post(
        "/integrations/webhooks/",
        {"name": "Billing", "url": "http://127.0.0.1:8999/hooks", "events": ["deal.won", "deal.lost"]},
    )

    sub = WebhookSubscription.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/integrations/webhooks/{sub.pk}/"
    assert sub.events == ["deal.won", "deal.lost"] and sub.created_by == manager
    page = client_for(manager).get(response["Location"])
    assert sub.secret in page.content.decode()


def test_a_private_target_in_production_is_a_field_error_on_the_page(client_for, manager, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOKS_REQUIRE_HTTPS = True

    response = client_for(manager).post(
        "/integrations/webhooks/", {"name": "x", "url": "https://127.0.0.1/hooks", "events": ["deal.won"]}
    )

    assert response.status_code == 200 and "url" in response.context["form"].errors
    assert not WebhookSubscription.objects.exists()


def test_the_delivery_log_lists_deliveries_newest_first_with_a_status_filter(client_for, manager):
    sub = a_subscription(manager)
    qualified_leads(3)
    first = WebhookDelivery.objects.order_by("pk").first()
    WebhookDelivery.objects.filter(pk=first.pk).update(status=DeliveryStatus.FAILED)

    page = client_for(manager).get(f"/integrations/webhooks/{sub.pk}/")
    failed = client_for(manager).get(f"/integrations/webhooks/{sub.pk}/?status=failed")
    bogus = client_for(manager).get(f"/integrations/webhooks/{sub.pk}/?status=%00x")

    assert [d.pk for d in page.context["page"].object_list][-1] == first.pk
    assert [d.pk for d in failed.context["page"].object_list] == [first.pk]
    assert bogus.status_code in (200, 400)


def test_the_webhook_pages_query_counts_do_not_grow_with_rows(client_for, manager, count_queries):
    sub = a_subscription(manager)
    client = client_for(manager)
    qualified_leads(2)
    few_list = count_queries(lambda: client.get("/integrations/webhooks/"))
    few_detail = count_queries(lambda: client.get(f"/integrations/webhooks/{sub.pk}/"))
    a_subscription(manager, name="second")
    qualified_leads(8)

    assert count_queries(lambda: client.get("/integrations/webhooks/")) == few_list
    assert count_queries(lambda: client.get(f"/integrations/webhooks/{sub.pk}/")) == few_detail


def test_redeliver_on_the_page_puts_a_failed_delivery_back_in_line(client_for, manager):
    a_subscription(manager)
    qualified_leads(1)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, retry_until=timezone.now())

    response = client_for(manager).post(f"/integrations/deliveries/{delivery.pk}/redeliver/")

    delivery.refresh_from_db()
    assert response.status_code == 302
    assert delivery.status == DeliveryStatus.PENDING and delivery.retry_until > timezone.now()


def test_a_manager_disables_and_re_enables_a_webhook(client_for, manager):
    sub = a_subscription(manager)
    client = client_for(manager)

    client.post(f"/integrations/webhooks/{sub.pk}/toggle/")
    sub.refresh_from_db()
    assert not sub.is_active and sub.disabled_at
    client.post(f"/integrations/webhooks/{sub.pk}/toggle/")
    sub.refresh_from_db()
    assert sub.is_active and sub.disabled_at is None and sub.consecutive_failures == 0


def test_the_delivery_page_shows_attempts_and_the_body(client_for, manager):
    a_subscription(manager)
    qualified_leads(1)
    delivery = WebhookDelivery.objects.get()

    page = client_for(manager).get(f"/integrations/deliveries/{delivery.pk}/")

    assert page.status_code == 200 and str(delivery.event_id) in page.content.decode()
    assert "Not attempted yet." in page.content.decode()
