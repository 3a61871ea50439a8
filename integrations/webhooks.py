"""Webhooks: subscriptions, the outbox (written in the transaction of the change), delivery
with signatures, retries with backoff and jitter, the delivery log, redelivery, and
disabling a subscription that keeps failing.

Delivery is at least once: a worker killed between the receiver's answer and the row update
sends the event again later, with the same X-Baton-Event-Id, which receivers use to drop the
repeat. Nothing is lost: the row exists exactly when the change does, and the sweep (beat)
sends every due row whose doorbell task was lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import time
import uuid
from datetime import timedelta

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.api import CAMPAIGN_EVENTS
from config.roles import is_manager
from crm.api import SALES_EVENTS, notification_send
from leads.api import LEAD_EVENTS

from . import enqueue
from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from .targets import target_check

EVENTS = (*LEAD_EVENTS, *SALES_EVENTS, *CAMPAIGN_EVENTS)
SIGNATURE_HEADER = "X-Baton-Signature"
USER_AGENT = "Baton-Webhooks/1"


def _require_manager(actor) -> None:
    if actor is None or not is_manager(actor):
        raise PermissionDenied("Only sales managers manage webhooks.")


def _clean_events(events) -> list[str]:
    if not isinstance(events, (list, tuple)) or not events:
        raise ValidationError({"events": "Choose at least one event."})
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise ValidationError({"events": f"Unknown event {str(unknown[0])[:40]}; choose from {', '.join(EVENTS)}."})
    return [e for e in EVENTS if e in events]


def subscription_create(*, actor, name: str, url: str, events) -> WebhookSubscription:
    """Register a subscription (managers). The secret is generated and shown on its page."""
    _require_manager(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the subscription a name."})
    target_check(url)
    return WebhookSubscription.objects.create(
        name=name[:100],
        url=url,
        events=_clean_events(events),
        secret=secrets.token_hex(32),
        created_by=actor,
    )


def subscription_set_active(*, actor, subscription_id: int, active: bool) -> WebhookSubscription:
    """Enable (after a fix: failures reset, pending events resume) or disable a subscription."""
    _require_manager(actor)
    with transaction.atomic():
        sub = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
        sub.is_active = active
        if active:
            sub.consecutive_failures, sub.failing_since = 0, None
            sub.disabled_at, sub.disabled_reason = None, ""
        else:
            sub.disabled_at, sub.disabled_reason = timezone.now(), f"Disabled by {actor.get_username()}."
        sub.save()
        if active:
            due = list(
                sub.deliveries.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True)[
                    : settings.WEBHOOKS_SWEEP_BATCH
                ]
            )
            enqueue.webhook_deliver_on_commit(due)
    return sub


# --- The outbox --------------------------------------------------------------------------------


def outbox_record(*, event: str, payloads: list[dict]) -> list[int]:
    """Write one delivery per (payload, active subscription that wants ``event``) in the
    caller's transaction and ring the worker once it commits. Cheap when nobody listens: one
    query."""
    subscriptions = [
        s.pk for s in WebhookSubscription.objects.filter(is_active=True).only("pk", "events") if event in s.events
    ]
    if not subscriptions or not payloads:
        return []
    now = timezone.now()
    retry_until = now + timedelta(seconds=settings.WEBHOOKS_RETRY_WINDOW_SECONDS)
    rows = []
    for payload in payloads:
        event_id = uuid.uuid4()
        rows.extend(
            WebhookDelivery(
                subscription_id=sub_id,
                event_id=event_id,
                event=event,
                payload=payload,
                created_at=now,
                next_attempt_at=now,
                retry_until=retry_until,
            )
            for sub_id in subscriptions
        )
    ids = [row.pk for row in WebhookDelivery.objects.bulk_create(rows)]
    enqueue.webhook_deliver_on_commit(ids)
    return ids


# --- Delivery ----------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over ``<timestamp>.<body>`` as sent in X-Baton-Signature: ``t=<ts>,v1=<hex>``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def body_for(delivery: WebhookDelivery) -> bytes:
    return json.dumps(
        {
            "id": str(delivery.event_id),
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Lease a due, pending delivery of an active subscription for one send (None if another
    worker holds it, it is not due yet, or it is done)."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True
        )
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=lease, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)


def webhook_deliver(*, delivery_id: int) -> str:
    """Send one delivery once (if due); record the attempt; schedule the retry or give up.
    Returns what happened: delivered / retry / failed / skipped."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "skipped"
    sub = delivery.subscription
    body = body_for(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Baton-Event": delivery.event,
        "X-Baton-Event-Id": str(delivery.event_id),
        "X-Baton-Timestamp": str(timestamp),
        "X-Baton-Attempt": str(delivery.attempts),
        SIGNATURE_HEADER: signature(sub.secret, timestamp, body),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        target_check(sub.url)
        response = requests.post(
            sub.url, data=body, headers=headers, timeout=(3, settings.WEBHOOKS_TIMEOUT_SECONDS), allow_redirects=False
        )
        status_code = response.status_code
        response.close()
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except ValidationError as exc:
        error = "; ".join(exc.messages)[:300]
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    latency_ms = int((time.monotonic() - started) * 1000)
    return _record(delivery, status_code=status_code, error=error, latency_ms=latency_ms)


def _backoff(attempts: int) -> float:
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return min(base, settings.WEBHOOKS_RETRY_MAX_SECONDS) * random.uniform(0.5, 1.5)  # noqa: S311 - jitter


def _record(delivery: WebhookDelivery, *, status_code, error: str, latency_ms: int) -> str:
    now = timezone.now()
    ok = not error
    subs = WebhookSubscription.objects.filter(pk=delivery.subscription_id)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            at=now,
            status_code=status_code,
            latency_ms=latency_ms,
            error=error,
            succeeded=ok,
        )
        if ok:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.DELIVERED,
                delivered_at=now,
                leased_until=None,
                last_status_code=status_code,
                last_error="",
            )
            # No write (and no lock) on the subscription row when it was not failing as of the
            # claim: deliveries of one subscription run side by side.
            if delivery.subscription.consecutive_failures:
                subs.filter(consecutive_failures__gt=0).update(consecutive_failures=0, failing_since=None)
            return "delivered"
        delay = _backoff(delivery.attempts)
        give_up = now + timedelta(seconds=delay) > delivery.retry_until
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING,
            next_attempt_at=now + timedelta(seconds=delay),
            leased_until=None,
            last_status_code=status_code,
            last_error=error,
        )
        subs.update(
            consecutive_failures=F("consecutive_failures") + 1, failing_since=Coalesce("failing_since", Value(now))
        )
        _disable_if_failing(subs.get(), now=now)
        if not give_up:
            enqueue.webhook_retry(delivery.pk, delay)
    return "failed" if give_up else "retry"


def _disable_if_failing(sub: WebhookSubscription, *, now) -> None:
    """Disable a subscription whose attempts have all failed for WEBHOOKS_DISABLE_AFTER_SECONDS
    and at least WEBHOOKS_DISABLE_AFTER_FAILURES times in a row, and tell whoever made it."""
    if not sub.is_active or sub.consecutive_failures < settings.WEBHOOKS_DISABLE_AFTER_FAILURES:
        return
    if now - sub.failing_since < timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER_SECONDS):
        return
    reason = f"Disabled after {sub.consecutive_failures} failed attempts in a row since {sub.failing_since:%Y-%m-%d %H:%M} UTC."
    disabled = WebhookSubscription.objects.filter(pk=sub.pk, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=reason
    )
    if disabled and sub.created_by_id:
        from django.urls import reverse

        notification_send(
            user=sub.created_by,
            kind="webhook_disabled",
            message=f"Webhook “{sub.name}” was disabled: {reason}",
            url=reverse("integrations:webhook-detail", args=[sub.pk]),
        )


def delivery_redeliver(*, actor, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again now (a manager's "redeliver"), with a fresh retry window; the
    event id stays the same."""
    _require_manager(actor)
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now
        delivery.leased_until = None
        delivery.retry_until = now + timedelta(seconds=settings.WEBHOOKS_RETRY_WINDOW_SECONDS)
        delivery.save(update_fields=["status", "next_attempt_at", "leased_until", "retry_until"])
        enqueue.webhook_deliver_on_commit([delivery.pk])
    return delivery


def webhooks_sweep(*, now=None) -> int:
    """The safety net (beat): ring the worker for every due pending delivery no worker holds
    (its doorbell was lost, or its worker died mid-send). Returns how many were rung."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True
        )
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: settings.WEBHOOKS_SWEEP_BATCH]
    )
    enqueue.webhook_deliver_now(due)
    return len(due)
