"""Notifying people: an in-app `Notification` row and its e-mail, sent from an outbox row
(`EmailOutbox`) written in the same transaction."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm import enqueue
from crm.models import EmailOutbox, Notification
from leads.api import Lead

logger = logging.getLogger(__name__)


class NotificationKind:
    ASSIGNED = "assignment"
    REASSIGNED_AWAY = "assignment_reassigned_away"
    SLA_BREACH = "sla_breach"
    ESCALATION = "sla_escalation"
    REJECTED = "assignment_rejected"
    SLA_WARNING = "sla_warning"
    COLLATERAL_VIEWED = "collateral_viewed"
    DEAL_WON = "deal_won"


def notification_send(
    *, user, kind: str, message: str, url: str = "", email: bool = True, key: str = ""
) -> Notification | None:
    """Record an in-app notification for ``user`` and its e-mail outbox row; after the
    caller's transaction commits, a task on the ``sales`` queue sends the e-mail.

    Both rows are part of the caller's transaction (they exist exactly when the change they
    report does); the e-mail leaves only once that change is committed, so a rolled-back
    hand-off never e-mails anyone, and a slow mail server never holds a lead's lock. If the
    doorbell is lost, the resend job (beat) sends the row.

    With a ``key`` (what the notification is about: ``"deal_won:<deal id>"``) it is sent at
    most once: a second call with the same key returns None and sends nothing.
    """
    sent = notifications_send([(user, kind, message, url, key)], email=email)
    return sent[0] if sent else None


def _not_sent_yet(items: list[tuple]) -> list[tuple]:
    """Drop keyed items whose key was sent before (or twice in ``items``)."""
    keys = {item[4] for item in items if item[4]}
    if not keys:
        return items
    seen = set(Notification.objects.filter(key__in=keys).values_list("key", flat=True))
    fresh = []
    for item in items:
        if item[4]:
            if item[4] in seen:
                continue
            seen.add(item[4])
        fresh.append(item)
    return fresh


def _keyed_insert(rows: list[Notification]) -> list[Notification]:
    try:
        with transaction.atomic():
            return Notification.objects.bulk_create(rows)
    except IntegrityError:
        pass
    inserted = []
    for row in rows:
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            continue  # the same key was just sent by a concurrent transaction
        inserted.append(row)
    return inserted


def notifications_send(items, *, email: bool = True) -> list[Notification]:
    """``notification_send`` for many (user, kind, message, url[, key]) at once: one insert of
    the notifications, one of their outbox rows, and one e-mail doorbell for all after commit.
    Keyed items already sent are left out (the unique ``notification_key_once`` is the last
    word when two transactions race: the later one's insert fails inside its savepoint and its
    keyed items are dropped, the others inserted one by one)."""
    now = timezone.now()
    items = _not_sent_yet([(*item, "")[:5] for item in items])
    if not items:
        return []
    rows = [
        Notification(user=user, kind=kind, message=message[:300], url=url[:300], key=key, created_at=now)
        for user, kind, message, url, key in items
    ]
    # Unkeyed (a hand-off batch): one plain insert, no savepoint.
    notifications = _keyed_insert(rows) if any(row.key for row in rows) else Notification.objects.bulk_create(rows)
    if email:
        rows = EmailOutbox.objects.bulk_create(
            [
                EmailOutbox(
                    notification=n,
                    to_email=n.user.email,
                    subject=email_subject(n),
                    body=email_body(n),
                    created_at=now,
                    next_attempt_at=now,
                )
                for n in notifications
                if getattr(n.user, "email", "")
            ]
        )
        if rows:
            enqueue.email_outbox_deliver([row.pk for row in rows])
    return notifications


def collateral_view_notify(*, share_id: int, lead_id: int, shared_by_id: int | None, title: str) -> Notification | None:
    """Tell the lead's rep (the lead's owner, else the one who shared it) that the lead opened
    a shared item; once per share (key ``collateral_viewed:<share id>``)."""
    key = f"collateral_viewed:{share_id}"
    if Notification.objects.filter(key=key).exists():
        return None  # not the first view: no need to read the lead
    lead = (
        Lead.objects.filter(pk=lead_id)
        .select_related("owner")
        .only("first_name", "last_name", "email", "owner")
        .first()
    )
    user = lead.owner if lead is not None and lead.owner is not None else None
    if user is None and shared_by_id is not None:
        user = get_user_model().objects.filter(pk=shared_by_id, is_active=True).first()
    if lead is None or user is None or not user.is_active:
        return None
    return notification_send(
        user=user,
        kind=NotificationKind.COLLATERAL_VIEWED,
        message=f"{lead.full_name or lead.email} opened “{title}”",
        url=f"/calls/leads/{lead_id}/",
        email=False,
        key=key,
    )


# "Subject: " + the subject stays within a 78-character header line, so mail clients and
# the console backend show it on one line (a longer one is folded onto a second line).
EMAIL_SUBJECT_MAX_CHARS = 78 - len("Subject: ")


def email_subject(notification: Notification) -> str:
    """One line: "[Baton] " and the message's first clause (the details go in the body),
    shortened at a word with "..." when it is still too long (ASCII, so an ASCII subject
    is never encoded and folded)."""
    text = " ".join(notification.message.split())
    head = text.split(" (", 1)[0].rstrip(".")
    subject = f"[Baton] {head}"
    if len(subject) > EMAIL_SUBJECT_MAX_CHARS:
        cut = subject[: EMAIL_SUBJECT_MAX_CHARS - 1]
        subject = (cut.rsplit(" ", 1)[0] if " " in cut[8:] else cut).rstrip(" ,:;") + "..."
    return subject


def absolute_url(url: str) -> str:
    """``url`` on ``BATON_BASE_URL`` (an e-mail's link has no page to be relative to)."""
    if not url or "://" in url:
        return url
    return f"{settings.BATON_BASE_URL}/{url.lstrip('/')}"


def email_body(notification: Notification) -> str:
    body = notification.message
    if notification.url:
        body = f"{body}\n\nOpen it in Baton: {absolute_url(notification.url)}"
    return body


def email_message_id(row: EmailOutbox) -> str:
    """Stable per outbox row: the one case that can send twice (the mail server took the
    message, then the worker died before ``sent_at`` was committed) carries the same
    Message-ID, so a receiving server or a count can tell the copy."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "baton.localhost"
    return f"<baton-outbox-{row.pk}@{domain}>"


def email_retry_delay(attempts: int) -> datetime.timedelta:
    """Backoff after the ``attempts``-th failed send: 1, 2, 4, ... minutes, at most an hour."""
    base = settings.EMAIL_OUTBOX_RETRY_SECONDS
    return datetime.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.EMAIL_OUTBOX_RETRY_MAX_SECONDS))


def email_outbox_deliver(*, outbox_ids: list[int] | None = None, now=None, limit: int = 500) -> int:
    """Send unsent outbox rows: the given ones (a doorbell), or every row that is due (the
    resend job: doorbell lost, or a failed send whose backoff has passed). Returns how many
    were sent now.

    Each row is claimed in its own transaction with ``SELECT ... FOR UPDATE SKIP LOCKED`` and
    ``sent_at IS NULL`` re-checked under the lock, sent, and stamped before the commit: two
    deliverers never both send a row, and a sent row is never sent again. A failed send counts
    the attempt, keeps the error and pushes ``next_attempt_at`` back; after
    ``EMAIL_OUTBOX_MAX_ATTEMPTS`` the row stays unsent for a person to look at.
    """
    now = now or timezone.now()
    pending = EmailOutbox.objects.unsent().filter(attempts__lt=settings.EMAIL_OUTBOX_MAX_ATTEMPTS)
    if outbox_ids is not None:
        pending = pending.filter(pk__in=list(outbox_ids))
    else:
        pending = pending.filter(next_attempt_at__lte=now)
    ids = list(pending.order_by("pk").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    sent = 0
    # Opened on the first send (inside the per-row try, so a mail server that is down counts
    # as a failed attempt) and reused for the batch.
    mail = get_connection(fail_silently=False)
    try:
        for pk in ids:
            with transaction.atomic():
                row = (
                    EmailOutbox.objects.select_for_update(skip_locked=True).filter(pk=pk, sent_at__isnull=True).first()
                )
                if row is None:
                    continue  # sent meanwhile, or another deliverer holds it right now
                row.attempts += 1
                message = EmailMessage(
                    subject=row.subject,
                    body=row.body,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[row.to_email],
                    headers={"Message-ID": email_message_id(row)},
                    connection=mail,
                )
                try:
                    message.send()
                except Exception as exc:  # noqa: BLE001 - any mail-server failure is retried later
                    logger.warning(
                        "e-mail outbox row %s: send failed (attempt %s)", row.pk, row.attempts, exc_info=True
                    )
                    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    row.next_attempt_at = timezone.now() + email_retry_delay(row.attempts)
                    row.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                    continue
                row.sent_at = timezone.now()
                row.save(update_fields=["attempts", "sent_at"])
                sent += 1
    finally:
        mail.close()
    return sent


def email_outbox_resend(*, grace_seconds: int | None = None, now=None) -> int:
    """The beat job: deliver every due unsent row older than the grace period (a fresh row's
    doorbell is normally on its way; delivering it here too would be harmless, just wasted)."""
    now = now or timezone.now()
    grace = settings.EMAIL_OUTBOX_RESEND_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = now - datetime.timedelta(seconds=grace)
    ids = list(
        EmailOutbox.objects.unsent()
        .filter(attempts__lt=settings.EMAIL_OUTBOX_MAX_ATTEMPTS, next_attempt_at__lte=now, created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[: settings.EMAIL_OUTBOX_RESEND_BATCH]
    )
    return email_outbox_deliver(outbox_ids=ids, now=now) if ids else 0
