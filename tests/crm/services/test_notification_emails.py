"""Issue 21 item 6: notification e-mails link absolutely (BATON_BASE_URL) and their subject
is one line."""

import email
import email.policy
import re

import pytest
from django.core import mail
from django.test import override_settings

from crm.services.notifications import (
    EMAIL_SUBJECT_MAX_CHARS,
    NotificationKind,
    email_outbox_deliver,
    notification_send,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LONG = (
    "New lead for you: Maximilian Alexander von Hohenberg-Strasser <maximilian.hohenberg@industrial-"
    "automation.example> (first touch due 2026-12-03 14:00 UTC)."
)


def _sent(message: str, url: str = "/calls/"):
    user = UserFactory(email="rep@example.com")
    notification_send(user=user, kind=NotificationKind.ASSIGNED, message=message, url=url)
    assert email_outbox_deliver() == 1
    sent = mail.outbox[-1]
    return sent, sent.message().as_string()


@override_settings(BATON_BASE_URL="https://baton.acme.example")
def test_the_link_in_the_email_is_absolute_on_the_base_url():
    sent, _raw = _sent("New lead for you: Ada", url="/calls/leads/12/")

    assert "https://baton.acme.example/calls/leads/12/" in sent.body
    assert not re.search(r"(?<![\w/:.])/calls/", sent.body), sent.body


def test_the_in_app_notification_keeps_its_relative_link():
    user = UserFactory(email="rep@example.com")
    notification = notification_send(user=user, kind=NotificationKind.ASSIGNED, message="Hi", url="/calls/")
    assert notification.url == "/calls/"


def test_a_long_subject_stays_on_one_header_line_and_keeps_its_meaning():
    sent, raw = _sent(LONG)

    header_line = next(line for line in raw.splitlines() if line.startswith("Subject: "))
    following = raw.splitlines()[raw.splitlines().index(header_line) + 1]
    assert not following.startswith((" ", "\t")), "the Subject header is folded onto a second line"
    assert len(header_line) <= 78
    assert sent.subject.startswith("[Baton] New lead for you: Maximilian")
    assert sent.subject.endswith("...") and len(sent.subject) <= EMAIL_SUBJECT_MAX_CHARS
    assert "first touch due 2026-12-03 14:00 UTC" in sent.body


def test_a_short_subject_drops_the_parenthesised_details_and_is_not_shortened():
    sent, _raw = _sent("New lead for you: Ada <ada@x.example> (first touch due 2026-12-03 14:00 UTC).")
    assert sent.subject == "[Baton] New lead for you: Ada <ada@x.example>"


def test_a_non_ascii_subject_decodes_to_one_line():
    sent, raw = _sent("New lead for you: José Conceição Gonçalves <jose@x.example> (first touch due soon).")

    parsed = email.message_from_string(raw, policy=email.policy.default)
    assert parsed["Subject"].strip() == "[Baton] New lead for you: José Conceição Gonçalves <jose@x.example>"
