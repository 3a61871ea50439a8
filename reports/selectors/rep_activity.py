"""Rep activity: per rep, calls per working day, connect rate, meetings booked, hand-offs
received and accepted, and speed-to-lead; plus calls per week."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.db.models.functions import TruncWeek

from crm.api import CONNECTED_OUTCOMES, Assignment, Call, CallOutcome

from .base import (
    Column,
    DateRangeForm,
    ReportResult,
    SecondsBetween,
    Table,
    admin_changelist,
    as_week,
    iso,
    percentiles,
    queue_field,
    ratio,
    rep_field,
    weeks_in_range,
)
from .charts import bar_chart

SLUG = "rep-activity"
TITLE = "Rep activity"
DESCRIPTION = "Calls per working day, connect rate, meetings booked and speed-to-lead per rep."
EMPTY = (
    "No calls or hand-offs in this period. As reps log calls, each rep's calls per working day, connect rate, "
    "meetings booked and speed-to-lead appear here."
)
HOUR = 3600.0


class FilterForm(DateRangeForm):
    queue = queue_field()
    rep = rep_field()


def working_days(start: datetime.date, end: datetime.date) -> int:
    """Weekdays in [start, end]."""
    days = (end - start).days + 1
    full, rest = divmod(days, 7)
    count = full * 5
    for i in range(rest):
        if (start + datetime.timedelta(days=full * 7 + i)).weekday() < 5:
            count += 1
    return count


def build(data) -> ReportResult:
    start, end = data["start"], data["end"]
    call_q = Q(called_at__gte=start, called_at__lt=end)
    assign_q = Q(handed_off_at__gte=start, handed_off_at__lt=end, rep__isnull=False)
    if data.get("rep"):
        call_q &= Q(rep=data["rep"])
        assign_q &= Q(rep=data["rep"])
    if data.get("queue"):
        call_q &= Q(rep__queue_memberships__queue=data["queue"])
        assign_q &= Q(queue=data["queue"])
    calls = Call.objects.filter(call_q)
    per_rep_calls = {
        r["rep"]: r
        for r in calls.order_by()
        .values("rep")
        .annotate(
            calls=Count("id"),
            connected=Count("id", filter=Q(outcome__in=CONNECTED_OUTCOMES)),
            meetings=Count("id", filter=Q(outcome=CallOutcome.MEETING_BOOKED)),
        )
    }
    assignments = Assignment.objects.filter(assign_q).annotate(speed=SecondsBetween("first_touch_at", "handed_off_at"))
    per_rep_assign = {
        r["rep"]: r
        for r in assignments.order_by()
        .values("rep")
        .annotate(received=Count("id"), accepted=Count("id", filter=Q(accepted_at__isnull=False)))
    }
    speed = percentiles(assignments, group="rep", value="speed")
    rep_ids = set(per_rep_calls) | set(per_rep_assign)
    reps = get_user_model().objects.filter(pk__in=rep_ids).order_by("username")
    days = working_days(data["date_from"], data["date_to"])
    rows, links = [], []
    for rep in reps:
        c = per_rep_calls.get(rep.pk, {})
        a = per_rep_assign.get(rep.pk, {})
        sp = speed.get(rep.pk, [None, None])
        rows.append(
            {
                "rep": rep.get_full_name() or rep.get_username(),
                "calls": c.get("calls", 0),
                "calls_per_day": ratio(c.get("calls", 0), days),
                "connect_rate": ratio(c.get("connected", 0), c.get("calls", 0)),
                "meetings": c.get("meetings", 0),
                "received": a.get("received", 0),
                "accepted": a.get("accepted", 0),
                "speed_median_h": sp[0] / HOUR if sp[0] is not None else None,
                "speed_p90_h": sp[1] / HOUR if sp[1] is not None else None,
            }
        )
        call_link = {"rep": rep.pk, "called_at__gte": iso(start), "called_at__lt": iso(end)}
        links.append(
            {
                "calls": admin_changelist("crm.call", **call_link),
                "meetings": admin_changelist("crm.call", outcome__exact=CallOutcome.MEETING_BOOKED, **call_link),
                "received": admin_changelist(
                    "crm.assignment", rep=rep.pk, handed_off_at__gte=iso(start), handed_off_at__lt=iso(end)
                ),
            }
        )
    table = Table(
        "reps",
        "Per rep",
        [
            Column("rep", "Rep", "text"),
            Column("calls", "Calls"),
            Column("calls_per_day", "Calls per working day", "float"),
            Column("connect_rate", "Connect rate", "pct"),
            Column("meetings", "Meetings booked"),
            Column("received", "Hand-offs received"),
            Column("accepted", "Accepted"),
            Column("speed_median_h", "Speed-to-lead median (h)", "hours"),
            Column("speed_p90_h", "Speed-to-lead p90 (h)", "hours"),
        ],
        rows,
        links,
        note=f"{days} working days (Monday to Friday) in the period. Connected counts every call where "
        "someone answered (connected, meeting booked, not interested, callback requested).",
    )
    weekly = {
        as_week(r["week"]): r
        for r in calls.annotate(week=TruncWeek("called_at"))
        .order_by()
        .values("week")
        .annotate(calls=Count("id"), connected=Count("id", filter=Q(outcome__in=CONNECTED_OUTCOMES)))
    }
    weeks = weeks_in_range(start, end)
    week_rows = [
        {
            "week": w,
            "calls": weekly.get(w, {}).get("calls", 0),
            "connected": weekly.get(w, {}).get("connected", 0),
            "connect_rate": ratio(weekly.get(w, {}).get("connected", 0), weekly.get(w, {}).get("calls", 0)),
        }
        for w in weeks
    ]
    per_week = Table(
        "weekly",
        "Calls per week",
        [
            Column("week", "Week of", "text"),
            Column("calls", "Calls"),
            Column("connected", "Connected"),
            Column("connect_rate", "Connect rate", "pct"),
        ],
        week_rows,
    )
    charts = []
    if rows:
        charts.append(
            bar_chart(
                "Calls and meetings per rep",
                [r["rep"] for r in rows],
                [("Calls", [r["calls"] for r in rows]), ("Meetings", [r["meetings"] for r in rows])],
            )
        )
        charts.append(
            bar_chart(
                "Calls per week",
                [w.strftime("%d %b") for w in weeks],
                [("Calls", [r["calls"] for r in week_rows]), ("Connected", [r["connected"] for r in week_rows])],
            )
        )
    return ReportResult([table, per_week], charts, is_empty=not rows)
