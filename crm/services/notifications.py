"""Notifying people: an in-app `Notification` row and an e-mail through Django's backend."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from crm import enqueue
from crm.models import Notification

logger = logging.getLogger(__name__)


class NotificationKind:
    ASSIGNED = "assignment"
    REASSIGNED_AWAY = "assignment_reassigned_away"
    SLA_BREACH = "sla_breach"
    ESCALATION = "sla_escalation"
    REJECTED = "assignment_rejected"


def notification_send(*, user, kind: str, message: str, url: str = "", email: bool = True) -> Notification:
    """Record an in-app notification for ``user`` and, after the caller's transaction
    commits, e-mail it on the ``sales`` queue.

    The row is part of the caller's transaction (it exists exactly when the change it reports
    does); the e-mail leaves only once that change is committed, so a rolled-back hand-off
    never e-mails anyone, and a slow mail server never holds a lead's lock.
    """
    return notifications_send([(user, kind, message, url)], email=email)[0]


def notifications_send(items, *, email: bool = True) -> list[Notification]:
    """``notification_send`` for many (user, kind, message, url) at once: one insert, and one
    e-mail task for all of them after commit."""
    now = timezone.now()
    notifications = Notification.objects.bulk_create(
        [
            Notification(user=user, kind=kind, message=message[:300], url=url[:300], created_at=now)
            for user, kind, message, url in items
        ]
    )
    to_email = [n.pk for n in notifications if email and getattr(n.user, "email", "")]
    if to_email:
        enqueue.notification_email(to_email)
    return notifications


def notification_email(*, notification_ids: list[int]) -> int:
    """E-mail notifications to their users, one message each. Returns how many were sent."""
    sent = 0
    for notification in Notification.objects.select_related("user").filter(pk__in=notification_ids):
        if not notification.user.email:
            continue
        body = notification.message
        if notification.url:
            body = f"{body}\n\n{notification.url}"
        sent += send_mail(
            subject=f"[Baton] {notification.message[:80]}",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.user.email],
        )
    return sent
