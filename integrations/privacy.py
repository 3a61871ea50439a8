"""What integrations holds about one person, for the privacy app's erasure: the webhook outbox
(payloads of deliveries sent, pending or failed) and the delivery log's error texts.

Every event payload names its lead (``"lead": <id>``); payloads that name the person another
way (a text quoting their e-mail or phone) are found by those.
Ids, stages, outcomes, amounts and times stay (a receiver can still match the event id); the
e-mail becomes the lead's erased address, free text is emptied and any other string that
names the person has the name replaced by ``[erased]``. A pending delivery is erased too, so
what is sent later carries no personal data."""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import Q

from .models import WebhookAttempt, WebhookDelivery

ERASED = "[erased]"
# Payload keys whose values are free text a person (or a rep about them) wrote.
FREE_TEXT_KEYS = frozenset({"comment", "reason", "note", "notes", "lost_note", "rejected_note"})
EMAIL_KEYS = frozenset({"email", "lead_email"})


def _scrub_text(text: str, pattern: re.Pattern | None) -> str:
    return pattern.sub(ERASED, text) if pattern is not None else text


def payload_erase(value, *, pattern: re.Pattern | None, erased_email: str, key: str = ""):
    """The payload with the person's data removed (see the module docstring)."""
    if isinstance(value, dict):
        return {k: payload_erase(v, pattern=pattern, erased_email=erased_email, key=k) for k, v in value.items()}
    if isinstance(value, list):
        return [payload_erase(v, pattern=pattern, erased_email=erased_email, key=key) for v in value]
    if isinstance(value, str):
        if key in EMAIL_KEYS and value:
            return erased_email
        if key in FREE_TEXT_KEYS:
            return ""
        return _scrub_text(value, pattern)
    return value


def _pattern(terms) -> re.Pattern | None:
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in terms), re.I) if terms else None


def privacy_integrations_erase(lead_id: int, *, terms: list[str], email: str, erased_email: str) -> dict[str, int]:
    """Erase the person behind the lead from the webhook outbox and the delivery log, inside
    the erasure's transaction. The lead's own deliveries lose every term that names the person
    (names, e-mail, phone); other deliveries are searched and scrubbed only for the e-mail and
    phone (a first name alone would match other people's text). Returns rows changed per kind."""
    distinctive = [t for t in [email, *terms] if t and ("@" in t or sum(c.isdigit() for c in t) >= 6)]
    own_pattern, other_pattern = _pattern([email, *terms]), _pattern(distinctive)
    about = Q(payload__lead=lead_id)
    for term in distinctive:
        about |= Q(payload__icontains=term)
    with transaction.atomic():
        deliveries = list(
            WebhookDelivery.objects.select_for_update().filter(about).order_by("pk").only("pk", "payload")
        )
        changed, patterns = [], {}
        for delivery in deliveries:
            own = isinstance(delivery.payload, dict) and delivery.payload.get("lead") == lead_id
            pattern = patterns[delivery.pk] = own_pattern if own else other_pattern
            erased = (
                payload_erase(delivery.payload, pattern=pattern, erased_email=erased_email)
                if own
                else _scrub_text_values(delivery.payload, pattern)
            )
            if erased != delivery.payload:
                delivery.payload = erased
                changed.append(delivery)
        WebhookDelivery.objects.bulk_update(changed, ["payload"], batch_size=500)
        attempts = []
        for attempt in (
            WebhookAttempt.objects.filter(delivery_id__in=patterns).exclude(error="").only("pk", "delivery_id", "error")
        ):
            scrubbed = _scrub_text(attempt.error, patterns[attempt.delivery_id])
            if scrubbed != attempt.error:
                attempt.error = scrubbed
                attempts.append(attempt)
        WebhookAttempt.objects.bulk_update(attempts, ["error"], batch_size=500)
    return {"webhook_deliveries": len(changed), "webhook_attempts": len(attempts)}


def _scrub_text_values(value, pattern: re.Pattern | None):
    """Another person's payload that quotes this one's e-mail or phone: only those go."""
    if isinstance(value, dict):
        return {k: _scrub_text_values(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_text_values(v, pattern) for v in value]
    return _scrub_text(value, pattern) if isinstance(value, str) else value
