"""Hand-off report: per week, how many leads qualified, were handed off, accepted or rejected,
how fast sales touched them, SLA breaches, deals, wins and revenue; plus open SLA breaches and
queue ageing, including the MQLs no queue has taken.

Cohorts: hand-offs are counted in the week the hand-off ran. It runs within minutes of the
qualification (a signal on commit plus a sweep), so this is the week of qualification for
all but the leads qualified on a Sunday night; counting by the hand-off's own timestamp keeps
every number equal to its drill-down (the assignment changelist filtered by that week).
Leads are counted once per week even when reassigned (distinct leads).
"""

from __future__ import annotations

import datetime

from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from crm.api import (
    OPEN_FOR_REP_STATUSES,
    Assignment,
    AssignmentStatus,
    Deal,
    DealStage,
    RejectReason,
    SalesQueue,
)
from leads.api import Lead, LeadTransition, LifecycleStage

from .base import (
    Column,
    DateRangeForm,
    ReportResult,
    SecondsBetween,
    Table,
    admin_changelist,
    as_week,
    campaign_field,
    iso,
    lead_filter_params,
    lead_filter_q,
    percentiles,
    queue_field,
    ratio,
    rep_field,
    segment_field,
    source_field,
    week_bounds,
    week_label,
    weeks_in_range,
)
from .charts import bar_chart, line_chart

SLUG = "handoff"
TITLE = "Hand-off"
DESCRIPTION = "Qualified, handed off, accepted and rejected leads per week; speed-to-lead, SLA breaches and revenue."
EMPTY = (
    "No hand-offs in this period. Once qualified leads are handed to a sales queue, each week shows how many "
    "were accepted or rejected (and why), how fast reps called them, SLA breaches, deals and revenue."
)
OPEN_BREACH_LIMIT = 20
HOUR = 3600.0


class FilterForm(DateRangeForm):
    queue = queue_field()
    rep = rep_field()
    segment = segment_field()
    campaign = campaign_field()
    source = source_field()


def _assignments(data):
    q = Q(handed_off_at__gte=data["start"], handed_off_at__lt=data["end"]) & lead_filter_q(data, "lead__")
    if data.get("queue"):
        q &= Q(queue=data["queue"])
    if data.get("rep"):
        q &= Q(rep=data["rep"])
    qs = Assignment.objects.filter(q)
    if data.get("campaign"):
        qs = qs.distinct()
    return qs


def build(data) -> ReportResult:
    base = _assignments(data).annotate(
        week=TruncWeek("handed_off_at"),
        speed=SecondsBetween("first_touch_at", "handed_off_at"),
        to_accept=SecondsBetween("accepted_at", "handed_off_at"),
    )
    # A reassignment hands the lead on to a new row; that row is the one counted.
    counted = ~Q(status=AssignmentStatus.REASSIGNED)
    aggregated = {
        as_week(row["week"]): row
        for row in base.order_by()
        .values("week")
        .annotate(
            handed_off=Count("id", filter=counted),
            accepted=Count("id", filter=Q(accepted_at__isnull=False)),
            rejected=Count("id", filter=Q(rejected_at__isnull=False)),
            breaches=Count("id", filter=Q(sla_breached_at__isnull=False)),
        )
    }
    deals = _deals_by_week(data)
    speed = percentiles(base, group="week", value="speed")
    accept = percentiles(base, group="week", value="to_accept")
    speed = {as_week(k): v for k, v in speed.items()}
    accept = {as_week(k): v for k, v in accept.items()}

    qualified_q = Q(to_stage=LifecycleStage.MQL, at__gte=data["start"], at__lt=data["end"]) & lead_filter_q(
        data, "lead__"
    )
    qualified_qs = LeadTransition.objects.filter(qualified_q)
    qualified = {
        as_week(row["week"]): row["n"]
        for row in qualified_qs.annotate(week=TruncWeek("at")).order_by().values("week").annotate(n=Count("id"))
    }

    weeks = weeks_in_range(data["start"], data["end"])
    rows, links = [], []
    for week in weeks:
        agg = aggregated.get(week, {})
        sp = speed.get(week, [None, None])
        ac = accept.get(week, [None, None])
        handed = agg.get("handed_off", 0)
        row = {
            "week": week_label(week, data),
            "qualified": qualified.get(week, 0),
            "handed_off": handed,
            "accepted": agg.get("accepted", 0),
            "rejected": agg.get("rejected", 0),
            "acceptance_rate": ratio(agg.get("accepted", 0), handed),
            "speed_median_h": sp[0] / HOUR if sp[0] is not None else None,
            "speed_p90_h": sp[1] / HOUR if sp[1] is not None else None,
            "accept_median_h": ac[0] / HOUR if ac[0] is not None else None,
            "accept_p90_h": ac[1] / HOUR if ac[1] is not None else None,
            "breaches": agg.get("breaches", 0),
            "deals": deals.get(week, {}).get("deals", 0),
            "won": deals.get(week, {}).get("won", 0),
            "revenue": deals.get(week, {}).get("revenue") or 0,
        }
        rows.append(row)
        links.append(_week_links(data, week))
    columns = [
        Column("week", "Week of", "text"),
        Column("qualified", "Qualified"),
        Column("handed_off", "Handed off"),
        Column("accepted", "Accepted"),
        Column("rejected", "Rejected"),
        Column("acceptance_rate", "Acceptance", "pct"),
        Column("speed_median_h", "Speed-to-lead median (h)", "hours"),
        Column("speed_p90_h", "Speed-to-lead p90 (h)", "hours"),
        Column("accept_median_h", "Time to accept median (h)", "hours"),
        Column("accept_p90_h", "Time to accept p90 (h)", "hours"),
        Column("breaches", "SLA breaches"),
        Column("deals", "Deals"),
        Column("won", "Won"),
        Column("revenue", "Won revenue", "money"),
    ]
    weekly = Table(
        "weekly",
        "Per week of hand-off",
        columns,
        rows,
        links,
        note="Qualified counts moves to MQL that week (a lead qualified twice counts twice; queue and rep do "
        "not apply: a lead has no queue until it is handed off). Handed off counts each hand-off once: a lead "
        "reassigned is counted on its latest assignment. SLA breaches counts the hand-offs of that week whose "
        "first call came after the SLA, as recorded by the SLA check.",
    )

    reasons = _rejections_by_reason(data)
    breaches = _open_breaches(data)
    ageing = _queue_ageing(data)
    labels = [w.strftime("%d %b") for w in weeks]
    charts = [
        bar_chart(
            "Leads per week",
            labels,
            [
                ("Qualified", [r["qualified"] for r in rows]),
                ("Handed off", [r["handed_off"] for r in rows]),
                ("Accepted", [r["accepted"] for r in rows]),
                ("Rejected", [r["rejected"] for r in rows]),
            ],
        ),
        line_chart(
            "Speed-to-lead (hours)",
            labels,
            [("Median", [r["speed_median_h"] for r in rows]), ("p90", [r["speed_p90_h"] for r in rows])],
        ),
    ]
    if reasons.rows:
        charts.append(
            bar_chart(
                "Rejections by reason",
                [r["reason"] for r in reasons.rows],
                [("Rejected", [r["rejected"] for r in reasons.rows])],
            )
        )
    empty = not any(r["handed_off"] or r["qualified"] for r in rows) and not breaches.rows and not ageing.rows
    return ReportResult([weekly, reasons, breaches, ageing], charts, is_empty=empty)


def _deals_by_week(data) -> dict:
    """Deals created after a hand-off, by the hand-off's week; driven from the (few) deals and
    joined to their leads' assignments, not probed once per assignment. A hand-off that was
    rejected or handed on to another rep gets no credit: the deal belongs to a later one."""
    q = Q(
        lead__assignments__handed_off_at__gte=data["start"],
        lead__assignments__handed_off_at__lt=data["end"],
        lead__assignments__status__in=[
            AssignmentStatus.QUEUED,
            AssignmentStatus.ASSIGNED,
            AssignmentStatus.ACCEPTED,
            AssignmentStatus.CLOSED,
        ],
        created_at__gte=F("lead__assignments__handed_off_at"),
    )
    if data.get("queue"):
        q &= Q(lead__assignments__queue=data["queue"])
    if data.get("rep"):
        q &= Q(lead__assignments__rep=data["rep"])
    rows = (
        Deal.objects.filter(q & lead_filter_q(data, "lead__"))
        .annotate(week=TruncWeek("lead__assignments__handed_off_at"))
        .order_by()
        .values("week")
        .annotate(
            deals=Count("id", distinct=True),
            won=Count("id", distinct=True, filter=Q(stage=DealStage.WON)),
            revenue=Sum("amount", filter=Q(stage=DealStage.WON)),
        )
    )
    return {as_week(r["week"]): r for r in rows}


COUNTED_STATUSES = ",".join(s for s in AssignmentStatus.values if s != AssignmentStatus.REASSIGNED)


def _assignment_params(data, start, end) -> dict:
    return {
        "handed_off_at__gte": iso(start),
        "handed_off_at__lt": iso(end),
        "queue__id__exact": data["queue"].pk if data.get("queue") else None,
        "rep__id__exact": data["rep"].pk if data.get("rep") else None,
        **lead_filter_params(data, "lead__"),
    }


def _week_links(data, week: datetime.date) -> dict[str, str]:
    start, end = week_bounds(week, data)
    common = _assignment_params(data, start, end)
    return {
        "handed_off": admin_changelist("crm.assignment", **common, status__in=COUNTED_STATUSES),
        "accepted": admin_changelist("crm.assignment", **common, accepted_at__isnull="False"),
        "rejected": admin_changelist("crm.assignment", **common, rejected_at__isnull="False"),
        "breaches": admin_changelist("crm.assignment", **common, sla_breached_at__isnull="False"),
        "qualified": admin_changelist(
            "leads.leadtransition",
            to_stage__exact=LifecycleStage.MQL,
            at__gte=iso(start),
            at__lt=iso(end),
            **lead_filter_params(data, "lead__"),
        ),
    }


def _rejections_by_reason(data) -> Table:
    labels = dict(RejectReason.choices)
    rows = list(
        _assignments(data)
        .filter(rejected_at__isnull=False)
        .order_by()
        .values("rejected_reason")
        .annotate(rejected=Count("id"))
        .order_by("-rejected", "rejected_reason")
    )
    table_rows = [
        {"reason": labels.get(r["rejected_reason"], r["rejected_reason"]), "rejected": r["rejected"]} for r in rows
    ]
    links = [
        {
            "rejected": admin_changelist(
                "crm.assignment",
                **_assignment_params(data, data["start"], data["end"]),
                rejected_reason__exact=r["rejected_reason"],
                rejected_at__isnull="False",
            )
        }
        for r in rows
    ]
    return Table(
        "rejections",
        "Rejected by reason",
        [Column("reason", "Reason", "text"), Column("rejected", "Rejected")],
        table_rows,
        links,
    )


def _open_breach_q(data, now) -> Q:
    """Still with a rep, never called and past the first-touch SLA, now (whether or not the SLA
    check has run on it yet)."""
    q = Q(status__in=OPEN_FOR_REP_STATUSES, first_touch_at__isnull=True, sla_due_at__lt=now)
    if data.get("queue"):
        q &= Q(queue=data["queue"])
    if data.get("rep"):
        q &= Q(rep=data["rep"])
    return q


OPEN_BREACH_NOTE = (
    "Hand-offs with a rep, not called yet and past their first-touch SLA, now; the same assignments as "
    "'Not called, past SLA' under queue ageing. The SLA is on the first call, not on accepting: a lead the rep "
    "has called but not accepted is not a breach."
)


def _open_breaches(data) -> Table:
    """Assignments still with a rep, past their first-touch SLA and not yet called (now, not in
    the date range: they are today's work)."""
    now = timezone.now()
    rows = list(
        Assignment.objects.filter(_open_breach_q(data, now))
        .select_related("lead", "queue", "rep")
        .order_by("sla_due_at", "id")[:OPEN_BREACH_LIMIT]
    )
    table_rows = [
        {
            "lead": str(a.lead),
            "queue": a.queue.name,
            "rep": a.rep.get_username() if a.rep else "",
            "sla_due_at": a.sla_due_at,
            "overdue_h": (now - a.sla_due_at).total_seconds() / HOUR,
        }
        for a in rows
    ]
    links = [{"lead": admin_changelist("crm.assignment", id=a.pk)} for a in rows]
    return Table(
        "open_breaches",
        f"Open SLA breaches (oldest {OPEN_BREACH_LIMIT})",
        [
            Column("lead", "Lead", "text"),
            Column("queue", "Queue", "text"),
            Column("rep", "Rep", "text"),
            Column("sla_due_at", "Due", "text"),
            Column("overdue_h", "Overdue (h)", "hours"),
        ],
        table_rows,
        links,
        note=OPEN_BREACH_NOTE,
    )


# An MQL still waiting this long after qualifying was not taken by any queue (hand-off runs
# within seconds, and the sweep every minute), or the workers are down.
NOT_TAKEN_AFTER = datetime.timedelta(minutes=5)
NOT_TAKEN_LABEL = "(no queue has taken them)"
NOT_TAKEN_NOTE = (
    f"{NOT_TAKEN_LABEL}: leads still MQL {NOT_TAKEN_AFTER.seconds // 60} minutes after qualifying, because no "
    "queue's rules match them or the workers are not running (do-not-call and do-not-contact leads are refused "
    "by design and not counted)."
)


QUEUE_AGEING_NOTE = (
    "Waiting for a rep: handed to the queue, no rep had room. Assigned, not called: with a rep who has not "
    "called yet; the first-touch SLA runs on these, and those past it are 'Not called, past SLA' (the open SLA "
    "breaches below). Called, not accepted: the rep has called (so the SLA is met) but has not accepted or "
    "rejected the lead yet; no SLA applies to accepting, so these can be old without any breach."
)


def _queue_ageing(data) -> Table:
    now = timezone.now()
    queues = SalesQueue.objects.all()
    if data.get("queue"):
        queues = queues.filter(pk=data["queue"].pk)
    queued = Q(assignments__status=AssignmentStatus.QUEUED)
    assigned = Q(assignments__status=AssignmentStatus.ASSIGNED)
    not_called = assigned & Q(assignments__first_touch_at__isnull=True)
    called = assigned & Q(assignments__first_touch_at__isnull=False)
    past_sla = Q(
        assignments__status__in=OPEN_FOR_REP_STATUSES,
        assignments__first_touch_at__isnull=True,
        assignments__sla_due_at__lt=now,
    )
    if data.get("rep"):
        rep = Q(assignments__rep=data["rep"])
        not_called, called, past_sla = not_called & rep, called & rep, past_sla & rep
    since = Coalesce("assignments__assigned_at", "assignments__handed_off_at")
    rows = list(
        queues.annotate(
            unassigned=Count("assignments", filter=queued),
            oldest_unassigned=Min("assignments__handed_off_at", filter=queued),
            not_called=Count("assignments", filter=not_called),
            oldest_not_called=Min(since, filter=not_called),
            past_sla=Count("assignments", filter=past_sla),
            unaccepted=Count("assignments", filter=called),
            oldest_unaccepted=Min(since, filter=called),
        )
        .filter(Q(unassigned__gt=0) | Q(not_called__gt=0) | Q(past_sla__gt=0) | Q(unaccepted__gt=0))
        .order_by("name")
        .values(
            "pk",
            "name",
            "unassigned",
            "oldest_unassigned",
            "not_called",
            "oldest_not_called",
            "past_sla",
            "unaccepted",
            "oldest_unaccepted",
        )
    )

    def age(ts):
        return (now - ts).total_seconds() / HOUR if ts else None

    table_rows = [
        {
            "queue": r["name"],
            "unassigned": r["unassigned"],
            "oldest_unassigned_h": age(r["oldest_unassigned"]),
            "not_called": r["not_called"],
            "oldest_not_called_h": age(r["oldest_not_called"]),
            "past_sla": r["past_sla"],
            "unaccepted": r["unaccepted"],
            "oldest_unaccepted_h": age(r["oldest_unaccepted"]),
        }
        for r in rows
    ]
    rep_param = {"rep__id__exact": data["rep"].pk if data.get("rep") else None}
    links = [
        {
            "unassigned": admin_changelist(
                "crm.assignment", queue__id__exact=r["pk"], status__exact=AssignmentStatus.QUEUED
            ),
            "not_called": admin_changelist(
                "crm.assignment",
                queue__id__exact=r["pk"],
                **rep_param,
                status__exact=AssignmentStatus.ASSIGNED,
                first_touch_at__isnull="True",
            ),
            "past_sla": admin_changelist(
                "crm.assignment",
                queue__id__exact=r["pk"],
                **rep_param,
                status__in=",".join(OPEN_FOR_REP_STATUSES),
                first_touch_at__isnull="True",
                sla_due_at__lt=iso(now),
            ),
            "unaccepted": admin_changelist(
                "crm.assignment",
                queue__id__exact=r["pk"],
                **rep_param,
                status__exact=AssignmentStatus.ASSIGNED,
                first_touch_at__isnull="False",
            ),
        }
        for r in rows
    ]
    if not data.get("queue"):
        cutoff = now - NOT_TAKEN_AFTER
        # Do-not-call / do-not-contact MQLs are refused by design (a HandoffRefusal says so).
        waiting = Lead.objects.filter(
            stage=LifecycleStage.MQL, qualified_at__lt=cutoff, do_not_call=False, do_not_contact=False
        ).aggregate(leads=Count("id"), oldest=Min("qualified_at"))
        if waiting["leads"]:
            table_rows.append(
                {
                    "queue": NOT_TAKEN_LABEL,
                    "unassigned": waiting["leads"],
                    "oldest_unassigned_h": age(waiting["oldest"]),
                    "not_called": None,
                    "oldest_not_called_h": None,
                    "past_sla": None,
                    "unaccepted": None,
                    "oldest_unaccepted_h": None,
                }
            )
            links.append(
                {
                    "unassigned": admin_changelist(
                        "leads.lead",
                        stage__exact=LifecycleStage.MQL,
                        qualified_at__lt=iso(cutoff),
                        do_not_call__exact=0,
                        do_not_contact__exact=0,
                    )
                }
            )
    return Table(
        "queue_ageing",
        "Queue ageing (now)",
        [
            Column("queue", "Queue", "text"),
            Column("unassigned", "Waiting for a rep"),
            Column("oldest_unassigned_h", "Oldest waiting (h)", "hours"),
            Column("not_called", "Assigned, not called"),
            Column("oldest_not_called_h", "Oldest not called (h)", "hours"),
            Column("past_sla", "Not called, past SLA"),
            Column("unaccepted", "Called, not accepted"),
            Column("oldest_unaccepted_h", "Oldest not accepted (h)", "hours"),
        ],
        table_rows,
        links,
        note=" ".join(
            [
                QUEUE_AGEING_NOTE,
                *([NOT_TAKEN_NOTE] if any(row["queue"] == NOT_TAKEN_LABEL for row in table_rows) else []),
            ]
        ),
    )
