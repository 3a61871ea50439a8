"""The collateral library: items, their file versions, sharing with leads and tracked views."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from config.roles import is_marketer, is_rep
from config.text_limits import too_long_message
from leads.api import EngagementKind, Segment, engagement_record

from ..models import (
    Collateral,
    CollateralKind,
    CollateralShare,
    CollateralVersion,
    CollateralView,
    FunnelStage,
    ObjectionCategory,
)
from ..signals import collateral_viewed
from ..validators import validate_collateral_file
from .access import ensure_marketer, is_id, lead_for_actor

_url_validator = URLValidator(schemes=["http", "https"])


# --- Tags ------------------------------------------------------------------------------------


def _clean_labels(value, *, field: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)):
        raise ValidationError({field: "Give a list of names."})
    cleaned, seen = [], set()
    for item in value:
        if not isinstance(item, str):
            raise ValidationError({field: "Each entry must be text."})
        item = item.strip()
        if not item:
            continue
        if len(item) > 100:
            raise ValidationError({field: f"'{item[:20]}...' is longer than 100 characters."})
        if item.lower() not in seen:
            seen.add(item.lower())
            cleaned.append(item)
    return cleaned


def _clean_objections(value) -> list[str]:
    categories = _clean_labels(value, field="objection_categories")
    unknown = [c for c in categories if c not in ObjectionCategory.values]
    if unknown:
        allowed = ", ".join(ObjectionCategory.values)
        raise ValidationError(
            {"objection_categories": f"Unknown objection category {unknown[0]!r}; allowed: {allowed}."}
        )
    return categories


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if url:
        try:
            _url_validator(url)
        except ValidationError:
            raise ValidationError({"url": "Enter a full http:// or https:// address."}) from None
    return url


TITLE_MAX_LENGTH = Collateral._meta.get_field("title").max_length


def _apply_fields(item: Collateral, fields: dict) -> None:
    if "title" in fields:
        title = (fields["title"] or "").strip()
        if not title:
            raise ValidationError({"title": "A title is required."})
        if len(title) > TITLE_MAX_LENGTH:
            raise ValidationError({"title": too_long_message(TITLE_MAX_LENGTH, len(title))})
        item.title = title
    if "kind" in fields:
        if fields["kind"] not in CollateralKind.values:
            raise ValidationError({"kind": f"'{fields['kind']}' is not a collateral kind."})
        item.kind = fields["kind"]
    if "url" in fields:
        item.url = _clean_url(fields["url"])
    if "industries" in fields:
        item.industries = _clean_labels(fields["industries"], field="industries")
    if "products" in fields:
        item.products = _clean_labels(fields["products"], field="products")
    if "funnel_stage" in fields:
        stage = fields["funnel_stage"] or ""
        if stage and stage not in FunnelStage.values:
            raise ValidationError({"funnel_stage": f"'{stage}' is not a funnel stage."})
        item.funnel_stage = stage
    if "objection_categories" in fields:
        item.objection_categories = _clean_objections(fields["objection_categories"])
    if "expires_on" in fields:
        expires_on = fields["expires_on"]
        if expires_on is not None and not isinstance(expires_on, datetime.date):
            raise ValidationError({"expires_on": "Give a date (YYYY-MM-DD)."})
        item.expires_on = expires_on


def _segments(segment_ids: Iterable) -> list[Segment]:
    ids = list(segment_ids or [])
    if not all(is_id(i) for i in ids):
        raise ValidationError({"approved_segment_ids": "Give segment ids."})
    found = list(Segment.objects.filter(pk__in=ids))
    missing = set(map(int, ids)) - {s.pk for s in found}
    if missing:
        raise ValidationError({"approved_segment_ids": "One of the chosen segments no longer exists."})
    return found


_EDITABLE = ("title", "kind", "url", "industries", "products", "funnel_stage", "objection_categories", "expires_on")


def collateral_create(
    *, actor, title: str, kind: str, file=None, url: str = "", approved_segment_ids: Iterable = (), **tags
) -> Collateral:
    """Add an item to the library: either an uploaded ``file`` (validated, stored through the
    storage API as version 1) or an external ``url``, not both and not neither. ``tags`` may
    hold industries, products, funnel_stage, objection_categories and expires_on."""
    ensure_marketer(actor, action="add collateral")
    unknown = set(tags) - set(_EDITABLE)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not a collateral field."})
    url = _clean_url(url)
    if file is not None and url:
        raise ValidationError({"url": "Give either a file or a URL, not both."})
    if file is None and not url:
        raise ValidationError({"file": "Upload a file or give a URL."})
    if file is not None:
        validate_collateral_file(file)  # refuse before anything is written
    item = Collateral(owner=actor)
    _apply_fields(item, {"title": title, "kind": kind, "url": url, **tags})
    segments = _segments(approved_segment_ids)
    with transaction.atomic():
        item.save()
        if segments:
            item.approved_segments.set(segments)
        if file is not None:
            collateral_version_add(collateral_id=item.pk, file=file, actor=actor)
            item.refresh_from_db()
    return item


def collateral_update(
    *, collateral_id: int, actor, approved_segment_ids: Iterable | None = None, **fields
) -> Collateral:
    """Change an item's title, kind, URL or tags (and, when given, its approved segments)."""
    ensure_marketer(actor, action="change collateral")
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not a collateral field."})
    with transaction.atomic():
        item = _get_collateral(collateral_id, lock=True)
        _apply_fields(item, fields)
        if item.url and item.current_version_id:
            raise ValidationError({"url": "This item is a file; it cannot also have a URL."})
        if not item.url and not item.current_version_id:
            raise ValidationError({"url": "A URL item needs its URL."})
        item.save()
        if approved_segment_ids is not None:
            item.approved_segments.set(_segments(approved_segment_ids))
    return item


def collateral_version_add(*, collateral_id: int, file, actor, name: str | None = None) -> CollateralVersion:
    """Upload a new file for an item. The file is validated (type by extension and by content,
    size, name), stored through the storage API, numbered one above the last version and made
    current; earlier versions are kept. Reps always get the current version."""
    ensure_marketer(actor, action="upload collateral")
    safe_name, kind = validate_collateral_file(file, name=name)
    with transaction.atomic():
        # The row lock serialises concurrent uploads so version numbers never collide.
        item = _get_collateral(collateral_id, lock=True)
        if item.url:
            raise ValidationError({"file": "This item links to a URL; it has no file versions."})
        number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = CollateralVersion(
            collateral=item,
            number=number,
            original_name=safe_name,
            content_type=kind.content_type,
            size=file.size,
            uploaded_by=actor,
        )
        file.seek(0)
        version.file.save(safe_name, file, save=False)
        version.save()
        item.current_version = version
        item.save(update_fields=["current_version", "updated_at"])
    return version


def collateral_archive(*, collateral_id: int, actor, archived: bool = True) -> Collateral:
    """Archive (or restore) an item. Archived items are not suggested, cannot be shared and
    their existing tracked links stop serving."""
    ensure_marketer(actor, action="archive collateral")
    with transaction.atomic():
        item = _get_collateral(collateral_id, lock=True)
        item.is_archived = archived
        item.save(update_fields=["is_archived", "updated_at"])
    return item


def _get_collateral(collateral_id, *, lock: bool = False) -> Collateral:
    qs = Collateral.objects.select_for_update() if lock else Collateral.objects.all()
    item = qs.filter(pk=collateral_id).first() if is_id(collateral_id) else None
    if item is None:
        raise ValidationError({"collateral_id": "Collateral not found."}, code="not_found")
    return item


# --- Sharing and tracked views ------------------------------------------------------------------


def collateral_share(*, collateral_id: int, lead_id: int, actor) -> CollateralShare:
    """A rep (or marketer) shares an item with a lead: a new tracked link with an unguessable
    token (``secrets.token_urlsafe``, 192 bits). A rep shares only with leads they own.

    Refused with a ValidationError naming the field: an unknown lead or one the rep does not
    own (``lead_id``, 'not found'); an unknown, archived or expired item, one with nothing to
    hand out, or one approved only for segments the lead is not in (``collateral_id``).
    Managers read but do not share (PermissionDenied)."""
    if actor is None or not (is_rep(actor) or is_marketer(actor)):
        raise PermissionDenied("Only reps and marketing can share collateral.")
    lead = lead_for_actor(actor=actor, lead_id=lead_id)
    item = _get_collateral(collateral_id)
    if item.is_archived:
        raise ValidationError({"collateral_id": f"'{item.title}' is archived and can no longer be shared."})
    today = timezone.localdate()
    if item.is_expired(today):
        raise ValidationError(
            {"collateral_id": f"'{item.title}' expired on {item.expires_on:%Y-%m-%d} and can no longer be shared."}
        )
    if not item.url and not item.current_version_id:
        raise ValidationError({"collateral_id": f"'{item.title}' has no file or URL to share yet."})
    approved = list(item.approved_segments.all())
    if approved:
        from ..suggestions import lead_segment_memberships

        if not lead_segment_memberships(lead=lead, segments=approved):
            names = ", ".join(s.name for s in approved)
            raise ValidationError(
                {"collateral_id": f"'{item.title}' is approved only for {names}; this lead is in none of them."}
            )
    return CollateralShare.objects.create(collateral=item, lead=lead, shared_by=actor, shared_at=timezone.now())


def collateral_share_revoke(*, share_id: int, actor) -> CollateralShare:
    """Stop a tracked link from serving. The person who shared it or marketing may revoke."""
    share = CollateralShare.objects.filter(pk=share_id).first() if is_id(share_id) else None
    if share is None or not (is_marketer(actor) or share.shared_by_id == getattr(actor, "pk", None)):
        raise ValidationError({"share_id": "Share not found."}, code="not_found")
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
    return share


def collateral_share_for_token(token: str, *, today=None) -> CollateralShare | None:
    """The live share behind a tracked link, or None: unknown, revoked, archived or expired
    items, and items with nothing to serve, all look the same to the visitor."""
    if not token or len(token) > 64:
        return None
    share = (
        CollateralShare.objects.select_related("collateral__current_version")
        .filter(token=token, revoked_at__isnull=True)
        .first()
    )
    if share is None:
        return None
    item = share.collateral
    if item.is_archived or item.is_expired(today):
        return None
    if not item.url and item.current_version is None:
        return None
    return share


def collateral_view_record(*, share: CollateralShare, user_agent: str = "", at=None) -> CollateralView:
    """Record one view of a tracked link, and the matching engagement event on the lead
    (kind ``collateral_view``, source ``share:<share id>:view:<view id>``) so that it scores;
    ``collateral_viewed`` tells sales (the lead's rep is notified of the first view)."""
    at = at or timezone.now()
    with transaction.atomic():
        view = CollateralView.objects.create(share=share, viewed_at=at, user_agent=(user_agent or "")[:300])
        engagement_record(
            lead_id=share.lead_id,
            kind=EngagementKind.COLLATERAL_VIEW,
            occurred_at=at,
            source_reference=f"share:{share.pk}:view:{view.pk}",
        )
        collateral_viewed.send(
            sender="campaigns",
            share_id=share.pk,
            lead_id=share.lead_id,
            shared_by_id=share.shared_by_id,
            title=share.collateral.title,
        )
    return view
