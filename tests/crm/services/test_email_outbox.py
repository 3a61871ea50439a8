"""The e-mail outbox: a row written with the notification, sent once, retried with backoff."""

import datetime
import socket
import threading

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from config.celery import app
from crm.models import EmailOutbox, Notification
from crm.services.notifications import (
    NotificationKind,
    email_outbox_deliver,
    email_outbox_resend,
    notification_send,
)
from tests.factories import UserFactory
from tests.sent_tasks import task_sends

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mail_server_down():
    """The SMTP backend pointed at a local port nobody listens on: a real refused connection."""
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=_closed_port(),
        EMAIL_TIMEOUT=2,
    )


def notify(user=None, message="New lead for you: Ada"):
    return notification_send(user=user or UserFactory(), kind=NotificationKind.ASSIGNED, message=message, url="/calls/")


@override_settings(BATON_BASE_URL="http://testserver.example")
def test_the_outbox_row_is_written_with_the_notification_and_the_doorbell_rings_after_commit(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(email="ada@example.com")

    with task_sends("crm.tasks.email_outbox_deliver_task") as doorbell:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            notification = notify(user)
            row = EmailOutbox.objects.get(notification=notification)
            assert doorbell.call_count == 0
        for callback in callbacks:
            callback()

    assert (row.to_email, row.sent_at, row.attempts) == ("ada@example.com", None, 0)
    assert row.subject == "[Baton] New lead for you: Ada"
    assert row.body == "New lead for you: Ada\n\nOpen it in Baton: http://testserver.example/calls/"
    doorbell.assert_called_once_with([row.pk])


def test_a_rolled_back_notification_leaves_no_outbox_row():
    user = UserFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        notify(user)
        raise RuntimeError("the hand-off failed")

    assert not Notification.objects.exists()
    assert not EmailOutbox.objects.exists()


def test_a_user_without_an_email_address_gets_no_outbox_row():
    notify(UserFactory(email=""))

    assert Notification.objects.count() == 1
    assert not EmailOutbox.objects.exists()


def test_a_lost_doorbell_does_not_fail_the_committed_change(django_capture_on_commit_callbacks, monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis")

    monkeypatch.setattr(app, "send_task", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify()

    assert EmailOutbox.objects.get(notification=notification).sent_at is None


def test_delivery_sends_the_row_once_and_stamps_sent_at():
    row = EmailOutbox.objects.get(notification=notify())

    assert email_outbox_deliver(outbox_ids=[row.pk]) == 1
    assert email_outbox_deliver(outbox_ids=[row.pk]) == 0
    assert email_outbox_resend(grace_seconds=0) == 0

    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [row.to_email]
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<baton-outbox-{row.pk}@localhost>"


def test_a_failed_send_is_counted_and_retried_only_after_its_backoff():
    row = EmailOutbox.objects.get(notification=notify())

    with mail_server_down():
        before = timezone.now()
        assert email_outbox_deliver(outbox_ids=[row.pk]) == 0
    row.refresh_from_db()
    assert (row.sent_at, row.attempts) == (None, 1)
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at >= before + datetime.timedelta(seconds=60)

    assert email_outbox_resend(grace_seconds=0) == 0  # not due yet
    assert mail.outbox == []
    later = row.next_attempt_at + datetime.timedelta(seconds=1)
    assert email_outbox_resend(grace_seconds=0, now=later) == 1
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2
    assert len(mail.outbox) == 1


def test_the_backoff_doubles_per_failed_attempt():
    row = EmailOutbox.objects.get(notification=notify())

    delays = []
    with mail_server_down():
        for _ in range(3):
            start = timezone.now()
            email_outbox_deliver(outbox_ids=[row.pk])
            row.refresh_from_db()
            delays.append(round((row.next_attempt_at - start).total_seconds() / 60))

    assert delays == [1, 2, 4]


@override_settings(EMAIL_OUTBOX_MAX_ATTEMPTS=2)
def test_after_the_last_attempt_the_row_is_left_unsent_for_a_person():
    row = EmailOutbox.objects.get(notification=notify())
    far = timezone.now() + datetime.timedelta(days=1)

    with mail_server_down():
        email_outbox_deliver(outbox_ids=[row.pk])
        email_outbox_resend(grace_seconds=0, now=far)
    assert email_outbox_resend(grace_seconds=0, now=far) == 0

    row.refresh_from_db()
    assert (row.sent_at, row.attempts) == (None, 2)
    assert mail.outbox == []


def test_the_resend_job_sends_rows_whose_doorbell_was_lost_but_leaves_fresh_ones_to_their_doorbell():
    old = EmailOutbox.objects.get(notification=notify())
    EmailOutbox.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    fresh = EmailOutbox.objects.get(notification=notify())

    assert email_outbox_resend() == 1

    assert EmailOutbox.objects.get(pk=old.pk).sent_at is not None
    assert EmailOutbox.objects.get(pk=fresh.pk).sent_at is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_another_deliverer_holds_is_skipped_not_waited_for_or_sent_twice():
    row = EmailOutbox.objects.get(notification=notify())
    locked, release = threading.Event(), threading.Event()

    def other_deliverer():
        try:
            with transaction.atomic():
                EmailOutbox.objects.select_for_update().get(pk=row.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_deliverer)
    thread.start()
    try:
        assert locked.wait(10)
        assert email_outbox_deliver(outbox_ids=[row.pk]) == 0
    finally:
        release.set()
        thread.join()

    assert mail.outbox == []
    assert email_outbox_deliver(outbox_ids=[row.pk]) == 1
