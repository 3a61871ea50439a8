"""The e-mail outbox through a real worker: doorbell, lost doorbell, duplicate doorbells.

The worker writes e-mails with Django's file backend, so the test counts what really left,
by the outbox row's Message-ID."""

import collections
import datetime
import re
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from config.celery import app
from crm.models import EmailOutbox
from crm.services.notifications import NotificationKind, notification_send
from tests.factories import UserFactory
from tests.integration.conftest import wait_until

MESSAGE_ID = re.compile(r"^Message-ID: <baton-outbox-(\d+)@", re.MULTILINE)


def sent_message_ids(mail_dir: Path) -> collections.Counter:
    """Outbox row id -> how many e-mails carrying it the worker wrote."""
    counts: collections.Counter = collections.Counter()
    for path in mail_dir.glob("*.log"):
        counts.update(int(m) for m in MESSAGE_ID.findall(path.read_text(errors="replace")))
    return counts


@pytest.fixture
def mail_worker(celery_worker_factory, tmp_path):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()

    def start(concurrency: int = 1):
        env = {
            "BATON_TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
        }
        return celery_worker_factory(queues="sales,handoff_sweep", concurrency=concurrency, env=env)

    start.mail_dir = mail_dir
    return start


def notify_users(n: int) -> list[int]:
    users = [UserFactory() for _ in range(n)]
    with transaction.atomic():
        notifications = [
            notification_send(user=u, kind=NotificationKind.ASSIGNED, message=f"New lead {i}", url="/calls/")
            for i, u in enumerate(users)
        ]
    return list(EmailOutbox.objects.filter(notification__in=notifications).values_list("pk", flat=True))


def all_sent(ids):
    return lambda: EmailOutbox.objects.filter(pk__in=ids, sent_at__isnull=False).count() == len(ids)


def test_the_worker_sends_each_notification_email_once_and_stamps_it(mail_worker):
    mail_worker()

    ids = notify_users(3)

    wait_until(all_sent(ids), timeout=30, message="the worker to send the outbox rows")
    assert sent_message_ids(mail_worker.mail_dir) == dict.fromkeys(ids, 1)


def test_rows_whose_doorbell_was_lost_are_sent_by_the_resend_job(mail_worker, monkeypatch):
    mail_worker()
    real_send_task = app.send_task

    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis")

    monkeypatch.setattr(app, "send_task", broker_down)
    ids = notify_users(2)
    monkeypatch.setattr(app, "send_task", real_send_task)
    assert EmailOutbox.objects.filter(pk__in=ids, sent_at__isnull=True).count() == 2
    EmailOutbox.objects.filter(pk__in=ids).update(created_at=timezone.now() - datetime.timedelta(minutes=2))

    app.send_task("crm.tasks.email_outbox_resend_task")

    wait_until(all_sent(ids), timeout=30, message="the resend job to send the rows")
    assert sent_message_ids(mail_worker.mail_dir) == dict.fromkeys(ids, 1)


def test_duplicate_doorbells_rung_at_once_on_four_processes_send_each_row_once(mail_worker, monkeypatch):
    worker = mail_worker(concurrency=4)
    monkeypatch.setattr(app, "send_task", lambda *a, **k: None)  # hold the doorbells back
    ids = notify_users(20)
    monkeypatch.undo()

    for _ in range(8):
        app.send_task("crm.tasks.email_outbox_deliver_task", args=[ids])

    wait_until(all_sent(ids), timeout=30, message="the outbox rows to be sent")
    # Every duplicate doorbell has finished before the count.
    wait_until(
        lambda: len(re.findall(r"email_outbox_deliver_task\[[^\]]+\] succeeded", worker.log_path.read_text())) == 8,
        timeout=30,
        message="all eight doorbells",
    )
    assert sent_message_ids(mail_worker.mail_dir) == dict.fromkeys(ids, 1)
