"""A manager's view of the sales team on ``/calls/``: each rep's open load, overdue SLAs and
next calls, in a constant number of queries whatever the size of the team."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from config.roles import SALES_REP

from .models import OPEN_FOR_REP_STATUSES, Assignment, FollowUp, FollowUpKind

NEXT_CALLS_PER_REP = 3


@dataclass(frozen=True, slots=True)
class NextCall:
    lead_id: int
    name: str
    at: datetime.datetime
    what: str  # "SLA" (first touch due) or the follow-up's kind

    @property
    def late(self) -> bool:
        return self.at < timezone.now()


@dataclass
class TeamRow:
    rep: object
    open_load: int
    overdue: int
    callbacks_due: int
    next_calls: list[NextCall] = field(default_factory=list)


def _count(qs) -> Coalesce:
    """A per-rep count as a scalar subquery (two counts over joins would multiply)."""
    return Coalesce(
        Subquery(qs.order_by().values("rep").annotate(n=Count("id")).values("n"), output_field=IntegerField()),
        Value(0),
    )


def sales_reps():
    return get_user_model().objects.filter(groups__name=SALES_REP, is_active=True).order_by("username")


def team_overview(*, now: datetime.datetime | None = None) -> list[TeamRow]:
    """One row per active rep, by username. Three queries: the reps with their counts, the
    first untouched assignments per rep by SLA, the first open follow-ups per rep by due time
    (each cut to ``NEXT_CALLS_PER_REP`` per rep by a window in SQL)."""
    now = now or timezone.now()
    open_ = Assignment.objects.filter(rep=OuterRef("pk"), status__in=OPEN_FOR_REP_STATUSES)
    reps = list(
        sales_reps().annotate(
            open_load=_count(open_),
            overdue=_count(open_.filter(first_touch_at__isnull=True, sla_due_at__lt=now)),
            callbacks_due=_count(FollowUp.objects.filter(rep=OuterRef("pk"), done_at__isnull=True, due_at__lte=now)),
        )
    )
    rows = {r.pk: TeamRow(rep=r, open_load=r.open_load, overdue=r.overdue, callbacks_due=r.callbacks_due) for r in reps}
    if not rows:
        return []
    untouched = (
        Assignment.objects.filter(
            rep_id__in=rows, status__in=OPEN_FOR_REP_STATUSES, first_touch_at__isnull=True, sla_due_at__isnull=False
        )
        .annotate(n=Window(RowNumber(), partition_by=F("rep_id"), order_by=(F("sla_due_at").asc(), F("id").asc())))
        .filter(n__lte=NEXT_CALLS_PER_REP)
        .values_list("rep_id", "lead_id", "lead__first_name", "lead__last_name", "lead__email", "sla_due_at")
    )
    follow_ups = (
        FollowUp.objects.filter(rep_id__in=rows, done_at__isnull=True, lead__isnull=False)
        .annotate(n=Window(RowNumber(), partition_by=F("rep_id"), order_by=(F("due_at").asc(), F("id").asc())))
        .filter(n__lte=NEXT_CALLS_PER_REP)
        .values_list("rep_id", "lead_id", "lead__first_name", "lead__last_name", "lead__email", "due_at", "kind")
    )
    for rep_id, lead_id, first, last, email, at in untouched:
        name = f"{first} {last}".strip() or email
        rows[rep_id].next_calls.append(NextCall(lead_id=lead_id, name=name, at=at, what="first touch"))
    for rep_id, lead_id, first, last, email, at, kind in follow_ups:
        name = f"{first} {last}".strip() or email
        rows[rep_id].next_calls.append(
            NextCall(lead_id=lead_id, name=name, at=at, what=FollowUpKind(kind).label.lower())
        )
    for row in rows.values():
        row.next_calls = sorted(row.next_calls, key=lambda c: (c.at, c.lead_id))[:NEXT_CALLS_PER_REP]
    return list(rows.values())


def team_totals(rows: list[TeamRow]) -> dict:
    return {
        "open_load": sum(r.open_load for r in rows),
        "overdue": sum(r.overdue for r in rows),
        "callbacks_due": sum(r.callbacks_due for r in rows),
    }


def rep_for_manager(rep_id: int):
    """The active rep a manager drills into, or None."""
    return sales_reps().filter(pk=rep_id).first()
