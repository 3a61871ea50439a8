"""Writes and previews of segments (prospect definitions).

Every saved change makes a new ``SegmentVersion`` (who, when, definition) with the member
count at that moment, so a marketer can see what a change did.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone

from config.text_limits import text_lengths_check

from . import enqueue
from .models import Lead, ScoringRule, Segment, SegmentVersion
from .segments import compile_definition, explain_definition

NAME_MAX = 150


def _clean(
    *, name: str | None, is_icp: bool | None, exclude_pk: int | None = None, description: str | None = None
) -> None:
    text_lengths_check({"description": description})
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": "A segment needs a name."})
        if len(name) > NAME_MAX:
            raise ValidationError({"name": f"At most {NAME_MAX} characters."})
        if Segment.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
            raise ValidationError({"name": f"A segment named '{name}' already exists."})
    if is_icp:
        current = Segment.objects.filter(is_icp=True).exclude(pk=exclude_pk).first()
        if current:
            raise ValidationError(
                {"is_icp": f"'{current.name}' is already the ideal customer profile; unflag it first."}
            )


def segment_member_count(definition) -> int:
    return Lead.objects.filter(compile_definition(definition)).count()


def segment_create(*, name: str, definition, actor, description: str = "", is_icp: bool = False) -> Segment:
    """Create a segment and its version 1, with the member count now."""
    compile_definition(definition)
    _clean(name=name, is_icp=is_icp, description=description)
    count = segment_member_count(definition)
    now = timezone.now()
    try:
        with transaction.atomic():
            segment = Segment.objects.create(
                name=name.strip(),
                description=description,
                definition=definition,
                is_icp=is_icp,
                version=1,
                member_count=count,
                counted_at=now,
                created_by=actor,
            )
            SegmentVersion.objects.create(
                segment=segment, version=1, definition=definition, member_count=count, created_by=actor
            )
    except IntegrityError as exc:  # a concurrent create with the same name or a second ICP
        raise ValidationError({"name": "A segment with this name (or another ICP) was just created."}) from exc
    return segment


def segment_update(
    *,
    segment_id: int,
    actor,
    name: str | None = None,
    description: str | None = None,
    definition=None,
    is_icp: bool | None = None,
) -> Segment:
    """Change a segment; a change makes a new version with the member count now. Saving the
    same values again changes nothing and makes no version. A new definition of a segment an
    active fit rule scores on re-scores every lead after commit."""
    if definition is not None:
        compile_definition(definition)
    _clean(name=name, is_icp=is_icp, exclude_pk=segment_id, description=description)
    with transaction.atomic():
        segment = Segment.objects.select_for_update().get(pk=segment_id)
        changes = {
            key: value
            for key, value in {
                "name": name.strip() if name is not None else None,
                "description": description,
                "definition": definition,
                "is_icp": is_icp,
            }.items()
            if value is not None and getattr(segment, key) != value
        }
        if not changes:
            return segment
        for key, value in changes.items():
            setattr(segment, key, value)
        segment.version += 1
        segment.member_count = segment_member_count(segment.definition)
        segment.counted_at = timezone.now()
        try:
            with transaction.atomic():
                segment.save()
        except IntegrityError as exc:
            raise ValidationError({"name": "Another segment took this name or the ICP flag just now."}) from exc
        SegmentVersion.objects.create(
            segment=segment,
            version=segment.version,
            definition=segment.definition,
            member_count=segment.member_count,
            created_by=actor,
        )
        if "definition" in changes and ScoringRule.objects.filter(segment=segment, is_active=True).exists():
            # fit rules score on this segment (the ICP): every lead's score changes meaning
            enqueue.leads_rescore_all()
    return segment


def segment_delete(*, segment_id: int, actor) -> None:
    """Delete a segment nothing depends on; one used by a scoring rule or a sales queue is refused."""
    segment = Segment.objects.get(pk=segment_id)
    try:
        with transaction.atomic():
            segment.delete()
    except ProtectedError as exc:
        users = sorted({f"{obj._meta.verbose_name} '{obj}'" for obj in exc.protected_objects})[:5]
        raise ValidationError({"segment": f"'{segment.name}' is still used by {', '.join(users)}."}) from exc


def segment_preview(*, definition, leads: QuerySet[Lead] | None = None, sample: int | None = None) -> dict:
    """Count and a sample of the leads an (unsaved) definition selects: two queries."""
    q = compile_definition(definition)
    base = (Lead.objects.all() if leads is None else leads).filter(q)
    size = settings.SEGMENT_PREVIEW_SAMPLE if sample is None else sample
    return {"count": base.count(), "sample": list(base.order_by("-score", "-id")[:size])}


def segment_explain(*, segment: Segment, lead_id: int) -> dict:
    """For one lead: whether it is in the segment and which conditions held."""
    tree = explain_definition(segment.definition, lead_id=lead_id)
    return {
        "segment": segment.pk,
        "version": segment.version,
        "lead": lead_id,
        "matched": tree["matched"],
        "tree": tree,
    }
