"""The live poll (change marker) and the notification centre."""

import pytest
from django.urls import reverse

from crm.live import live_token
from crm.models import Notification
from tests.crm.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def _poll(client, user, **params):
    return client.get(reverse("crm:live-poll"), {"t": live_token(user), **params})


def test_the_first_poll_returns_the_marker_count_and_notices(client, rep):
    n = NotificationFactory(user=rep, message="New lead: Vera Teixeira, SLA 4 h")
    data = _poll(client, rep).json()
    assert data["unread"] == 1 and data["marker"] == f"1-{n.pk}"
    assert data["notices"][0]["message"] == "New lead: Vera Teixeira, SLA 4 h"


def test_an_unchanged_marker_is_an_empty_204_from_one_query(client, rep, django_assert_num_queries):
    NotificationFactory(user=rep)
    marker = _poll(client, rep).json()["marker"]
    with django_assert_num_queries(1):
        response = _poll(client, rep, m=marker)
    assert response.status_code == 204 and response.content == b""


def test_a_new_notification_changes_the_marker(client, rep):
    first = NotificationFactory(user=rep)
    marker = _poll(client, rep).json()["marker"]
    second = NotificationFactory(user=rep, message="Another lead")
    data = _poll(client, rep, m=marker, after=first.pk).json()
    assert data["unread"] == 2 and [n["id"] for n in data["notices"]] == [second.pk]


def test_another_users_notifications_never_show(client, rep, other_rep):
    NotificationFactory(user=other_rep, message="Not yours")
    data = _poll(client, rep).json()
    assert data == {"marker": "0-0", "unread": 0, "notices": []}


@pytest.mark.parametrize("token", ["", "garbage", "1:forged"])
def test_a_bad_token_is_refused(client, token):
    assert client.get(reverse("crm:live-poll"), {"t": token}).status_code == 403


@pytest.mark.parametrize("after", ["-1", "x", str(2**64)])
def test_a_bad_after_is_a_field_error(client, rep, after):
    response = _poll(client, rep, after=after)
    assert response.status_code == 400 and b"after" in response.content


def test_every_page_has_the_bell_for_every_role(client_for, rep, marketer, manager):
    for user in (rep, marketer, manager):
        body = client_for(user).get(reverse("crm:notification-list")).content.decode()
        assert 'id="bell"' in body and 'id="live"' in body


def test_the_list_shows_own_notifications_newest_first(client_for, rep, other_rep):
    NotificationFactory(user=rep, message="Older")
    NotificationFactory(user=rep, message="Newer")
    NotificationFactory(user=other_rep, message="Not yours")
    body = client_for(rep).get(reverse("crm:notification-list")).content.decode()
    assert body.index("Newer") < body.index("Older") and "Not yours" not in body
    assert "2 unread" in body


def test_the_empty_list_says_so(client_for, manager):
    assert "No notifications yet" in client_for(manager).get(reverse("crm:notification-list")).content.decode()


def test_mark_read_and_all_read(client_for, rep):
    one, two = NotificationFactory(user=rep), NotificationFactory(user=rep)
    client = client_for(rep)
    assert client.post(reverse("crm:notification-read", args=[one.pk])).status_code == 302
    assert Notification.objects.get(pk=one.pk).read_at is not None
    assert Notification.objects.get(pk=two.pk).read_at is None
    client.post(reverse("crm:notifications-read-all"))
    assert not Notification.objects.filter(user=rep, read_at__isnull=True).exists()


def test_another_users_notification_cannot_be_marked(client_for, rep, other_rep):
    theirs = NotificationFactory(user=other_rep)
    assert client_for(rep).post(reverse("crm:notification-read", args=[theirs.pk])).status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_anonymous_is_sent_to_log_in(client):
    for url in (reverse("crm:notification-list"), reverse("crm:notifications-read-all")):
        response = client.get(url) if url.endswith("notifications/") else client.post(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("size", [1, 12])
def test_the_list_costs_a_constant_number_of_queries(client_for, rep, django_assert_num_queries, size):
    for _ in range(size):
        NotificationFactory(user=rep)
    client = client_for(rep)
    # session, user, groups (the menu), count, page, unread count
    with django_assert_num_queries(6):
        client.get(reverse("crm:notification-list"))
