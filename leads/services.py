"""Writes to marketing data. Every function is keyword-only and refuses bad input with a
ValidationError naming the field. Each writes in one transaction, except
``lead_engagement_refresh``, which commits per batch of 5,000 leads (each batch consistent on
its own, so a refresh of every lead does not hold every row locked at once)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from . import enqueue
from .lifecycle import lead_transition, leads_transition
from .models import (
    ANY_KIND,
    LAST_EVENT_ANY,
    LAST_EVENT_AT,
    LATEST_ENGAGEMENT_DEPTH,
    EngagementEvent,
    EngagementKind,
    LatestEngagement,
    Lead,
    LeadOutcome,
    LifecycleStage,
)

S = LifecycleStage
Outcome = LeadOutcome
SALES_STAGES = (S.HANDED_OFF, S.SAL, S.OPPORTUNITY, S.CUSTOMER)

# Reason codes written on LeadTransition.reason when sales reports an outcome (for people
# reading the history). Readers use the typed ``outcome`` / ``outcome_reason`` fields.
REASON_REJECTED_PREFIX = "rejected:"
REASON_LOST_PREFIX = "lost:"
REASON_NO_CONTACT = "no_contact"
REASON_WON = "won"


def engagement_record(
    *, lead_id: int, kind: str, occurred_at=None, source_reference: str = "", points: float | None = None
) -> tuple[EngagementEvent, bool]:
    """Record one engagement event; a repeat of the same (lead, kind, source_reference) is
    returned as it is, not duplicated. Returns (event, created).

    A new event enqueues ``score_lead_task`` after commit (the lead is scored and, if it now
    qualifies, moved to MQL)."""
    if kind not in EngagementKind.values:
        raise ValidationError({"kind": f"'{kind}' is not an engagement kind."})
    occurred_at = occurred_at or timezone.now()
    with transaction.atomic():
        if source_reference:
            existing = EngagementEvent.objects.filter(
                lead_id=lead_id, kind=kind, source_reference=source_reference
            ).first()
            if existing:
                return existing, False
        event = EngagementEvent.objects.create(
            lead_id=lead_id, kind=kind, occurred_at=occurred_at, source_reference=source_reference, points=points
        )
        # The latest-event columns only ever move forward (a late-arriving old event does not
        # make the lead look idle), computed under the row lock this UPDATE takes, so events
        # recorded concurrently for one lead commute: the columns end at the latest of them.
        Lead.objects.filter(pk=lead_id).update(
            **{field: _later_of(field, occurred_at) for field in (LAST_EVENT_ANY, LAST_EVENT_AT[kind])}
        )
        # Under that lock, so the last of concurrent writers ranks every event.
        _latest_engagement_rebuild([lead_id])
        enqueue.score_lead(lead_id)
    return event, True


def _later_of(field: str, moment):
    return Case(
        When(Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": moment}), then=Value(moment)),
        default=F(field),
    )


def _latest_engagement_rebuild(lead_ids: list[int]) -> None:
    """Replace the leads' LatestEngagement rows (n = 2..depth of each kind and of any kind)
    with the ranks of their events now: two statements. The caller holds the leads' row locks."""
    if not lead_ids:
        return
    table = connection.ops.quote_name(LatestEngagement._meta.db_table)
    events = connection.ops.quote_name(EngagementEvent._meta.db_table)
    marks = ", ".join(["%s"] * len(lead_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE lead_id IN ({marks})", lead_ids)
        cursor.execute(
            f"""
            INSERT INTO {table} (lead_id, kind, nth, occurred_at)
            SELECT lead_id, kind, nth, occurred_at FROM (
                SELECT lead_id, kind, occurred_at,
                       ROW_NUMBER() OVER (PARTITION BY lead_id, kind ORDER BY occurred_at DESC) AS nth
                FROM {events} WHERE lead_id IN ({marks})
                UNION ALL
                SELECT lead_id, %s, occurred_at,
                       ROW_NUMBER() OVER (PARTITION BY lead_id ORDER BY occurred_at DESC) AS nth
                FROM {events} WHERE lead_id IN ({marks})
            ) ranked
            WHERE nth BETWEEN 2 AND %s
            """,
            [*lead_ids, ANY_KIND, *lead_ids, LATEST_ENGAGEMENT_DEPTH],
        )


REFRESH_BATCH = 5000


def _latest_event_at(**kind):
    """The time of the lead's latest event (of ``kind``, if given), as a correlated subquery."""
    return Subquery(
        EngagementEvent.objects.filter(lead=OuterRef("pk"), **kind).order_by("-occurred_at").values("occurred_at")[:1]
    )


def lead_engagement_refresh(*, lead_ids: Iterable[int] | None = None) -> int:
    """Recompute what engagement segments read from the given leads' events: the latest-event
    columns (``last_engaged_at``, ``last_<kind>_at``) and the LatestEngagement ranks; ``None``
    means every lead that has events or any of these set. Returns the number of leads rewritten.

    ``engagement_record`` keeps both right for the events it records; every other write of
    events (bulk inserts, edits and deletes in the admin, demo data) calls this afterwards.
    Set-based: three statements per 5,000 leads. The leads are locked in pk order before the
    events are read, so an event recorded meanwhile is either seen here or ranked by its own
    writer after this commits."""
    if lead_ids is None:
        stale = Q(Exists(EngagementEvent.objects.filter(lead=OuterRef("pk"))))
        stale |= Q(Exists(LatestEngagement.objects.filter(lead=OuterRef("pk"))))
        for field in (LAST_EVENT_ANY, *LAST_EVENT_AT.values()):
            stale |= Q(**{f"{field}__isnull": False})
        ids = list(Lead.objects.filter(stale).order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(lead_ids))
    latest = {field: _latest_event_at(kind=kind) for kind, field in LAST_EVENT_AT.items()}
    latest[LAST_EVENT_ANY] = _latest_event_at()
    updated = 0
    for start in range(0, len(ids), REFRESH_BATCH):
        batch = ids[start : start + REFRESH_BATCH]
        with transaction.atomic():
            list(Lead.objects.select_for_update().filter(pk__in=batch).order_by("pk").values_list("pk", flat=True))
            updated += Lead.objects.filter(pk__in=batch).update(**latest)
            _latest_engagement_rebuild(batch)
    return updated


# --- Outcomes reported by sales (through leads.api) ----------------------------------------


def lead_handed_off(*, lead_id: int, actor=None, owner=None, at=None) -> Lead:
    """MQL -> HANDED_OFF, with ``owner`` (the rep) set in the same transaction."""
    with transaction.atomic():
        lead = lead_transition(lead_id=lead_id, to_stage=S.HANDED_OFF, actor=actor, reason="handed_off", at=at)
        if owner is not None:
            Lead.objects.filter(pk=lead_id).update(owner=owner)
            lead.owner = owner
    return lead


def lead_owner_set(*, lead_id: int, owner) -> None:
    """Sales moved a lead that is already with sales to another rep (a reassignment): the
    owner changes, the stage does not (it is not a lifecycle move). A lead not with sales is
    refused: marketing's leads have no owner to move."""
    with transaction.atomic():
        stage = Lead.objects.select_for_update().filter(pk=lead_id).values_list("stage", flat=True).first()
        if stage is None:
            raise ValidationError({"lead_id": "Lead not found."}, code="not_found")
        if stage not in SALES_STAGES:
            raise ValidationError(
                {"lead_id": f"The lead is {S(stage).label}, not with sales: it has no owner to move."}
            )
        Lead.objects.filter(pk=lead_id).update(owner=owner, updated_at=timezone.now())


def leads_handed_off(*, owners: dict[int, int], actor=None, at=None) -> list[int]:
    """``lead_handed_off`` for a batch: lead id -> owner (user id). Leads still MQL move to
    HANDED_OFF with their owner in one UPDATE and one transition insert; the rest are left
    alone. Returns the ids moved."""
    return leads_transition(
        moves={lead_id: {"owner_id": owner_id} for lead_id, owner_id in owners.items()},
        from_stage=S.MQL,
        to_stage=S.HANDED_OFF,
        actor=actor,
        reason="handed_off",
        at=at,
    )


def lead_accepted_by_sales(*, lead_id: int, actor=None, at=None) -> Lead:
    return lead_transition(
        lead_id=lead_id, to_stage=S.SAL, actor=actor, reason="accepted", outcome=Outcome.ACCEPTED, at=at
    )


def lead_rejected_by_sales(*, lead_id: int, reason: str, note: str = "", actor=None, at=None) -> Lead:
    """Sales sent the lead back: RECYCLED with reason ``rejected:<reason>``; the owner is cleared."""
    with transaction.atomic():
        lead = lead_transition(
            lead_id=lead_id,
            to_stage=S.RECYCLED,
            actor=actor,
            reason=f"{REASON_REJECTED_PREFIX}{reason}",
            outcome=Outcome.REJECTED,
            outcome_reason=reason,
            note=note,
            at=at,
        )
        Lead.objects.filter(pk=lead_id).update(owner=None)
    return lead


def lead_recycled_no_contact(*, lead_id: int, actor=None, note: str = "", at=None) -> Lead:
    with transaction.atomic():
        lead = lead_transition(
            lead_id=lead_id,
            to_stage=S.RECYCLED,
            actor=actor,
            reason=REASON_NO_CONTACT,
            outcome=Outcome.NO_CONTACT,
            note=note,
            at=at,
        )
        Lead.objects.filter(pk=lead_id).update(owner=None)
    return lead


def lead_converted_to_opportunity(*, lead_id: int, actor=None, at=None) -> Lead:
    return lead_transition(lead_id=lead_id, to_stage=S.OPPORTUNITY, actor=actor, reason="converted", at=at)


def lead_won(*, lead_id: int, actor=None, at=None) -> Lead:
    return lead_transition(
        lead_id=lead_id, to_stage=S.CUSTOMER, actor=actor, reason=REASON_WON, outcome=Outcome.WON, at=at
    )


def lead_lost(*, lead_id: int, reason: str, note: str = "", actor=None, at=None) -> Lead:
    with transaction.atomic():
        lead = lead_transition(
            lead_id=lead_id,
            to_stage=S.RECYCLED,
            actor=actor,
            reason=f"{REASON_LOST_PREFIX}{reason}",
            outcome=Outcome.LOST,
            outcome_reason=reason,
            note=note,
            at=at,
        )
        Lead.objects.filter(pk=lead_id).update(owner=None)
    return lead
