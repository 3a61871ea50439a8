"""The marketing-sales agreement page (``/agreement/``): per queue and month, what each side
promised (``reports.SalesAgreement``) and what happened.

Cohorts: the leads handed to a queue in a month (UTC), each lead counted once per queue and
month however often it was reassigned inside the queue. Of those:

- delivered MQLs: distinct leads handed to the queue in the month (vs marketing's target);
- accepted / rejected (with the reason) by sales; a rejection for no contact is counted as
  *recycled for no contact*, not as a rejection;
- recycled back to marketing: rejected plus recycled for no contact;
- follow-up compliance: of the assignments given to a rep, those first touched within the
  agreed business hours (the queue's working hours and days) of the hand-off; one not touched
  yet and not yet due is left out until it is;
- attempts kept: of the leads recycled for no contact, those called at least the agreed
  number of times first.

A constant number of queries whatever the months and queues: one per figure kind, grouped by
queue and month.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from crm.api import Assignment, AssignmentStatus, RejectReason, SalesQueue, add_business_minutes

from ..models import SalesAgreement
from .charts import bar_chart, line_chart

MONTHS = 6
UTC = datetime.UTC


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def months_back(last: datetime.date, count: int = MONTHS) -> list[datetime.date]:
    """``count`` first-of-month dates ending with ``last``'s month, oldest first."""
    months, cursor = [], month_start(last)
    for _ in range(count):
        months.append(cursor)
        cursor = (cursor - datetime.timedelta(days=1)).replace(day=1)
    return months[::-1]


def _next_month(month: datetime.date) -> datetime.date:
    return (month + datetime.timedelta(days=32)).replace(day=1)


def _at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=UTC)


@dataclass
class Cell:
    """One queue in one month: the promise and what happened."""

    queue: SalesQueue
    month: datetime.date
    agreement: SalesAgreement | None = None
    delivered: int = 0
    accepted: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    no_contact: int = 0
    attempts_kept: int = 0
    touch_due: int = 0
    touch_on_time: int = 0

    @property
    def target(self) -> int | None:
        return self.agreement.mql_target if self.agreement else None

    @property
    def recycled(self) -> int:
        return self.rejected + self.no_contact

    @property
    def compliance(self) -> float | None:
        return self.touch_on_time / self.touch_due if self.touch_due else None

    @property
    def reasons_display(self) -> list[tuple[str, int]]:
        labels = dict(RejectReason.choices)
        return [(labels.get(k, k), v) for k, v in sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))]


@dataclass
class AgreementReport:
    months: list[datetime.date]
    queues: list[SalesQueue]
    cells: dict[tuple[int, datetime.date], Cell]
    charts: list = field(default_factory=list)

    def rows(self):
        """Per queue, its cells oldest month first."""
        return [(queue, [self.cells[(queue.pk, m)] for m in self.months]) for queue in self.queues]

    def totals(self) -> list[dict]:
        out = []
        for m in self.months:
            cells = [self.cells[(q.pk, m)] for q in self.queues]
            targets = [c.target for c in cells if c.target is not None]
            due = sum(c.touch_due for c in cells)
            out.append(
                {
                    "month": m,
                    "target": sum(targets) if targets else None,
                    "delivered": sum(c.delivered for c in cells),
                    "accepted": sum(c.accepted for c in cells),
                    "rejected": sum(c.rejected for c in cells),
                    "recycled": sum(c.recycled for c in cells),
                    "compliance": (sum(c.touch_on_time for c in cells) / due) if due else None,
                }
            )
        return out

    @property
    def is_empty(self) -> bool:
        return not any(c.delivered or c.agreement for c in self.cells.values())


def agreement_report(
    *, last_month: datetime.date | None = None, queue_id: int | None = None, now=None
) -> AgreementReport:
    now = now or timezone.now()
    months = months_back(last_month or now.astimezone(UTC).date())
    start, end = _at(months[0]), _at(_next_month(months[-1]))
    queues = list(SalesQueue.objects.filter(**({"pk": queue_id} if queue_id else {})).order_by("priority", "pk"))
    ids = [q.pk for q in queues]
    cells = {(q.pk, m): Cell(queue=q, month=m) for q in queues for m in months}

    def cell(queue_id, at) -> Cell | None:
        month = at.date().replace(day=1) if isinstance(at, datetime.datetime) else at
        return cells.get((queue_id, month))

    for agreement in SalesAgreement.objects.filter(queue_id__in=ids, month__gte=months[0], month__lte=months[-1]):
        if (c := cell(agreement.queue_id, agreement.month)) is not None:
            c.agreement = agreement

    cohort = Assignment.objects.filter(queue_id__in=ids, handed_off_at__gte=start, handed_off_at__lt=end)
    by_month = cohort.annotate(m=TruncMonth("handed_off_at", tzinfo=UTC)).values("queue_id", "m")
    rejected_q = Q(rejected_at__isnull=False)
    for row in by_month.annotate(
        delivered=Count("lead", distinct=True),
        accepted=Count("lead", distinct=True, filter=Q(accepted_at__isnull=False)),
        rejected=Count("lead", distinct=True, filter=rejected_q & ~Q(rejected_reason=RejectReason.NO_CONTACT)),
        no_contact=Count("lead", distinct=True, filter=rejected_q & Q(rejected_reason=RejectReason.NO_CONTACT)),
    ).order_by():
        if (c := cell(row["queue_id"], row["m"])) is not None:
            c.delivered, c.accepted = row["delivered"], row["accepted"]
            c.rejected, c.no_contact = row["rejected"], row["no_contact"]
    reasons = (
        by_month.filter(rejected_q)
        .exclude(rejected_reason=RejectReason.NO_CONTACT)
        .values("queue_id", "m", "rejected_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in reasons:
        if (c := cell(row["queue_id"], row["m"])) is not None:
            c.reasons[row["rejected_reason"]] = row["n"]

    # Attempts: the calls logged on the assignment that was recycled for no contact.
    recycled = cohort.filter(status=AssignmentStatus.REJECTED, rejected_reason=RejectReason.NO_CONTACT)
    attempts = recycled.annotate(m=TruncMonth("handed_off_at", tzinfo=UTC), calls_n=Count("calls")).values_list(
        "queue_id", "m", "calls_n"
    )
    needed = {(q, m): c.agreement.attempts_before_recycle for (q, m), c in cells.items() if c.agreement}
    for queue_id_, m, calls_n in attempts.order_by():
        c = cell(queue_id_, m)
        if c is not None and c.agreement and calls_n >= needed[(queue_id_, c.month)]:
            c.attempts_kept += 1

    # Follow-up compliance: per assignment, in Python (business hours depend on the queue).
    by_pk = {q.pk: q for q in queues}
    touches = (
        Assignment.objects.filter(queue_id__in=ids, handed_off_at__gte=start, handed_off_at__lt=end, rep__isnull=False)
        .values_list("queue_id", "handed_off_at", "first_touch_at")
        .order_by()
    )
    for queue_id_, handed_off_at, first_touch_at in touches:
        c = cell(queue_id_, handed_off_at.astimezone(UTC))
        if c is None or c.agreement is None:
            continue
        q = by_pk[queue_id_]
        due = add_business_minutes(
            handed_off_at,
            c.agreement.first_touch_hours * 60,
            tz=q.timezone,
            start=q.business_hours_start,
            end=q.business_hours_end,
            days=q.business_days,
        )
        if first_touch_at is not None and first_touch_at <= due:
            c.touch_due += 1
            c.touch_on_time += 1
        elif first_touch_at is not None or due <= now:
            c.touch_due += 1

    report = AgreementReport(months=months, queues=queues, cells=cells)
    totals = report.totals()
    labels = [f"{m:%b %Y}" for m in months]
    report.charts = [
        line_chart(
            "MQLs: target and delivered",
            labels,
            [("Target", [t["target"] for t in totals]), ("Delivered", [t["delivered"] for t in totals])],
        ),
        bar_chart(
            "Accepted, rejected and recycled",
            labels,
            [
                ("Accepted", [t["accepted"] for t in totals]),
                ("Rejected", [t["rejected"] for t in totals]),
                ("Recycled to marketing", [t["recycled"] for t in totals]),
            ],
        ),
        line_chart(
            "Follow-up compliance (first touch on time)",
            labels,
            [("On time", [t["compliance"] for t in totals])],
            percent=True,
            y_range=(0.0, 1.0),
        ),
    ]
    return report
