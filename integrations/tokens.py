"""Personal API tokens: make (the key is returned once), revoke, and authenticate by key."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from config.roles import is_manager

from .models import ApiToken

KEY_PREFIX = "bat_"
# last_used_at is written at most this often per token, so reads do not each cost a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_TOKENS_PER_USER = 50


def key_hash(key: str) -> str:
    # The key is 256 random bits: a plain SHA-256 cannot be brute-forced, and it lets the
    # lookup be one indexed equality.
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, user, name: str, expires_at=None) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns (token, key). The key is not stored anywhere."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. 'website forms'."})
    if len(name) > 100:
        raise ValidationError({"name": "At most 100 characters."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    with transaction.atomic():
        if ApiToken.objects.filter(user=user).usable().count() >= MAX_TOKENS_PER_USER:
            raise ValidationError({"name": f"You have {MAX_TOKENS_PER_USER} tokens; revoke one first."})
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            user=user, name=name, prefix=key[: len(KEY_PREFIX) + 6], key_hash=key_hash(key), expires_at=expires_at
        )
    return token, key


def token_revoke(*, token_id: int, actor) -> ApiToken:
    """Revoke a token: its owner may, and so may a sales manager for anyone's. Revoking twice
    is not an error (the first revocation stands)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None or (token.user_id != actor.pk and not is_manager(actor)):
            raise PermissionDenied("You can revoke only your own tokens.")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.revoked_by = actor
            token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def token_authenticate(key: str) -> ApiToken | None:
    """The usable token with this key (its user active), or None."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = ApiToken.objects.usable().select_related("user").filter(key_hash=key_hash(key)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_for_user(*, user):
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def tokens_for_manager():
    """Every user's usable tokens, for a manager to revoke."""
    return ApiToken.objects.usable().select_related("user").order_by("user__username", "-created_at")
