"""Merging a duplicate lead into the lead kept (the survivor), field by field.

``lead_merge`` runs in one transaction: it locks both leads in primary-key order (so two merges
of overlapping pairs wait for each other instead of deadlocking, and the second finds its lead
gone and refuses), moves every row that points at the merged lead to the survivor, deletes the
merged lead, writes the chosen field values on the survivor, re-derives its consent flags,
latest-event columns and score, and records one ``LeadMerge`` row.

``leads`` moves its own rows; the apps above it (campaigns, crm) move theirs through a mover
they register here in ``AppConfig.ready()`` (``lead_merge_register``), the way learning
registers its scoring terms: leads never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from config.roles import is_manager, is_marketer

from .consent import _flags_apply
from .duplicates import duplicates_find
from .locks import leads_lock
from .models import (
    LEAD_PROFILE_FIELDS,
    SALES_STAGES,
    ConsentRecord,
    DuplicatePair,
    EngagementEvent,
    LatestEngagement,
    Lead,
    LeadMerge,
    LeadTransition,
    LifecycleStage,
)
from .scoring import lead_score
from .services import lead_engagement_refresh

# The fields a marketer chooses between, in the order the merge page shows them.
MERGE_FIELDS = LEAD_PROFILE_FIELDS

# How far along a lead is: the survivor proposed is the one further along (then the older).
STAGE_RANK = {
    LifecycleStage.DISQUALIFIED: 0,
    LifecycleStage.NEW: 1,
    LifecycleStage.ENGAGED: 2,
    LifecycleStage.RECYCLED: 3,
    LifecycleStage.MQL: 4,
    LifecycleStage.HANDED_OFF: 5,
    LifecycleStage.SAL: 6,
    LifecycleStage.OPPORTUNITY: 7,
    LifecycleStage.CUSTOMER: 8,
}


@dataclass(frozen=True)
class LeadMover:
    """Moves one app's rows from the merged lead to the survivor; returns counts per row kind.
    Called inside the merge's transaction with both leads locked: ``mover(survivor=, merged=,
    at=, actor=)`` (the two locked ``Lead`` rows)."""

    name: str
    move: Callable[..., dict[str, int]]


_movers: dict[str, LeadMover] = {}


def lead_merge_register(mover: LeadMover) -> None:
    _movers[mover.name] = mover


def lead_merge_movers() -> list[LeadMover]:
    return [_movers[name] for name in sorted(_movers)]


def survivor_proposed(a: Lead, b: Lead) -> Lead:
    """The lead further along, then the older one, then the lower id."""
    return min((a, b), key=lambda lead: (-STAGE_RANK.get(lead.stage, 0), lead.created_at, lead.pk))


def fields_differing(a: Lead, b: Lead) -> list[str]:
    return [name for name in MERGE_FIELDS if _value(a, name) != _value(b, name)]


def _value(lead: Lead, name: str):
    value = getattr(lead, name)
    return value.lower() if name == "email" else value


def merge_needs_manager(a: Lead, b: Lead) -> bool:
    """Two reps' leads: only a manager decides which rep keeps the person."""
    return bool(a.owner_id and b.owner_id and a.owner_id != b.owner_id)


def merge_permission_check(*, actor, a: Lead, b: Lead) -> None:
    if actor is None or not (is_marketer(actor) or is_manager(actor)):
        raise PermissionDenied("Only marketing and sales managers merge leads.")
    if merge_needs_manager(a, b) and not is_manager(actor):
        raise PermissionDenied(
            f"Lead {a.pk} and lead {b.pk} belong to two different reps: only a sales manager can merge them."
        )


def _choices_check(*, survivor: Lead, merged: Lead, choices: dict) -> dict[str, int]:
    """``choices`` maps a field to the id of the lead whose value is kept; a differing field not
    named keeps the survivor's value. Unknown fields and other ids are field errors."""
    errors, kept = {}, {}
    differing = fields_differing(survivor, merged)
    for name, lead_id in (choices or {}).items():
        if name not in MERGE_FIELDS:
            errors[name] = f"'{name}' is not a field that can be chosen."
            continue
        try:
            lead_id = int(lead_id)
        except (TypeError, ValueError):
            lead_id = None
        if lead_id not in (survivor.pk, merged.pk):
            errors[name] = f"Choose lead {survivor.pk}'s or lead {merged.pk}'s value."
            continue
        if name in differing:
            kept[name] = lead_id
    if errors:
        raise ValidationError(errors)
    return {name: kept.get(name, survivor.pk) for name in differing}


def lead_merge(*, survivor_id: int, merged_id: int, choices: dict | None = None, actor) -> LeadMerge:
    """Merge lead ``merged_id`` into ``survivor_id``.

    Refuses (``ValidationError`` naming the field) a lead merged into itself, a lead that no
    longer exists (merged meanwhile), a field choice naming a third lead or an unknown field,
    and a survivor less far along than a merged lead that is with sales (keep the lead sales
    works). ``PermissionDenied`` unless the actor is a marketer or manager, and for two reps'
    leads unless a manager. Every row of every app that points at the merged lead ends on the
    survivor (duplicates of a row the survivor already has are dropped, counted in ``moved``);
    at most one active assignment survives (crm closes the other with reason ``merged``)."""
    survivor_id, merged_id = int(survivor_id), int(merged_id)
    if survivor_id == merged_id:
        raise ValidationError({"survivor": "A lead cannot be merged into itself."})
    now = timezone.now()
    with transaction.atomic():
        locked = {lead.pk: lead for lead in leads_lock(ids=[survivor_id, merged_id])}
        for lead_id in (survivor_id, merged_id):
            if lead_id not in locked:
                raise ValidationError({"survivor": f"Lead {lead_id} no longer exists (merged or deleted meanwhile)."})
        survivor, merged = locked[survivor_id], locked[merged_id]
        merge_permission_check(actor=actor, a=survivor, b=merged)
        if merged.stage in SALES_STAGES and STAGE_RANK[merged.stage] > STAGE_RANK[survivor.stage]:
            raise ValidationError(
                {"survivor": f"Keep lead {merged.pk}: it is further along ({merged.get_stage_display()})."}
            )
        kept = _choices_check(survivor=survivor, merged=merged, choices=choices or {})

        moved: dict[str, int] = {}
        for mover in lead_merge_movers():
            moved.update(mover.move(survivor=survivor, merged=merged, at=now, actor=actor))
        moved.update(_leads_rows_move(survivor=survivor, merged=merged))

        merged_values = {name: getattr(merged, name) for name in (*MERGE_FIELDS, "custom_attributes")}
        merged_values["owner_id"] = merged.owner_id
        Lead.objects.filter(pk=merged.pk).delete()

        survivor.refresh_from_db()
        update = []
        for name, lead_id in kept.items():
            if lead_id == merged.pk:
                setattr(survivor, name, merged_values[name])
                update.append(name)
        attributes = {**(merged_values["custom_attributes"] or {}), **(survivor.custom_attributes or {})}
        if attributes != survivor.custom_attributes:
            survivor.custom_attributes = attributes
            update.append("custom_attributes")
        if update:
            survivor.save(update_fields=[*update, "updated_at"])
        _flags_apply(survivor)
        lead_engagement_refresh(lead_ids=[survivor.pk])
        lead_score(lead_id=survivor.pk, now=now)
        duplicates_find(lead_ids=[survivor.pk])
        return LeadMerge.objects.create(
            survivor=survivor,
            merged_lead_id=merged.pk,
            merged_email=merged.email,
            merged_stage=merged.stage,
            merged_values=merged_values,
            choices=dict(kept),
            moved=moved,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            at=now,
        )


def _leads_rows_move(*, survivor: Lead, merged: Lead) -> dict[str, int]:
    to_survivor = {"lead_id": survivor.pk}
    # An event the survivor already has (same kind and source reference) is the same event.
    survivor_refs = set(
        EngagementEvent.objects.filter(lead_id=survivor.pk)
        .exclude(source_reference="")
        .values_list("kind", "source_reference")
    )
    same = EngagementEvent.objects.filter(lead_id=merged.pk).exclude(source_reference="")
    same_ids = [
        pk for pk, kind, ref in same.values_list("pk", "kind", "source_reference") if (kind, ref) in survivor_refs
    ]
    dropped = EngagementEvent.objects.filter(pk__in=same_ids).delete()[0] if same_ids else 0
    counts = {
        "events": EngagementEvent.objects.filter(lead_id=merged.pk).update(**to_survivor),
        "events_already_there": dropped,
        "transitions": LeadTransition.objects.filter(lead_id=merged.pk).update(**to_survivor),
        "consent_records": ConsentRecord.objects.filter(lead_id=merged.pk).update(**to_survivor),
        "merges": LeadMerge.objects.filter(survivor_id=merged.pk).update(survivor_id=survivor.pk),
    }
    # Ranks are rebuilt for the survivor from its events; pairs are found again for it.
    LatestEngagement.objects.filter(lead_id=merged.pk).delete()
    DuplicatePair.objects.filter(lead_a_id=merged.pk).delete()
    DuplicatePair.objects.filter(lead_b_id=merged.pk).delete()
    return counts
