"""Keeping pages live: a short poll with a change marker.

Why polling and not server-sent events: an SSE stream holds a worker (a gunicorn sync worker,
or the embedded runserver's thread) per open page for as long as the page is open, and the
embedded default has no process to fan events out from the Celery worker to web processes. A
poll works the same on both. It stays nearly free while nothing changes: the page carries a
signed token naming its user (so the poll reads no session and no user row), and the server
answers from one indexed query (the user's unread notifications: count and newest id) with an
empty 204 when the marker the page sent is still current. Only a changed marker costs more: the
new notifications, and the page then re-fetches what it shows (the call list's rows).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db.models import Count, Max

from .models import Notification

SALT = "baton.live"


def live_token(user) -> str:
    return signing.dumps(user.pk, salt=SALT, compress=False)


def live_user_id(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=SALT, max_age=settings.LIVE_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def live_marker(user_id: int) -> str:
    """``"<unread>-<newest unread id>"``: changes when a notification arrives or is read. One
    query on notification_user_read_idx (user, read_at)."""
    row = Notification.objects.filter(user_id=user_id, read_at__isnull=True).aggregate(n=Count("id"), last=Max("id"))
    return f"{row['n']}-{row['last'] or 0}"


def live_notices(user_id: int, *, after_id: int, limit: int = 5) -> list[dict]:
    rows = Notification.objects.filter(user_id=user_id, read_at__isnull=True, id__gt=after_id).order_by("-id")[:limit]
    return [{"id": n.pk, "kind": n.kind, "message": n.message, "url": n.url} for n in rows]
