import datetime
import random
from collections import defaultdict

import pytest
from django.utils import timezone

from crm.business_hours import add_business_minutes
from crm.models import AssignmentStatus
from reports.models import SalesAgreement
from reports.selectors.agreement import agreement_report, months_back
from tests.crm.factories import AssignmentFactory, CallFactory, SalesQueueFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
NOW = datetime.datetime(2026, 6, 20, 12, 0, tzinfo=UTC)


def test_months_back_are_the_six_months_ending_this_one():
    assert months_back(datetime.date(2026, 2, 14)) == [
        datetime.date(2025, 9, 1),
        datetime.date(2025, 10, 1),
        datetime.date(2025, 11, 1),
        datetime.date(2025, 12, 1),
        datetime.date(2026, 1, 1),
        datetime.date(2026, 2, 1),
    ]


def _world(seed=7, queues=2):
    """Random hand-offs over three months in ``queues`` queues (one worked around the clock,
    one on weekdays 9-17), with agreements for some months, first touches, acceptances,
    rejections with reasons, no-contact recycles and calls."""
    rng = random.Random(seed)
    qs = [SalesQueueFactory(business_days=[]), SalesQueueFactory()][:queues]
    months = [datetime.date(2026, 4, 1), datetime.date(2026, 5, 1), datetime.date(2026, 6, 1)]
    for q in qs:
        for m in months[1:]:
            SalesAgreement.objects.create(
                queue=q,
                month=m,
                mql_target=rng.randint(3, 9),
                first_touch_hours=rng.choice([1, 4]),
                attempts_before_recycle=rng.choice([2, 3]),
            )
    for _ in range(40):
        q = rng.choice(qs)
        m = rng.choice(months)
        handed = datetime.datetime.combine(m, datetime.time(0), tzinfo=UTC) + datetime.timedelta(
            days=rng.randint(0, 19), hours=rng.randint(0, 23), minutes=rng.randint(0, 59)
        )
        kind = rng.choice(["open", "accepted", "rejected", "no_contact", "untouched"])
        touch = None if kind == "untouched" else handed + datetime.timedelta(minutes=rng.randint(5, 60 * 30))
        fields = {"queue": q, "handed_off_at": handed, "first_touch_at": touch}
        if kind == "accepted":
            fields.update(status=AssignmentStatus.ACCEPTED, accepted_at=touch)
        elif kind == "rejected":
            fields.update(
                status=AssignmentStatus.REJECTED,
                rejected_at=touch,
                rejected_reason=rng.choice(["not_a_fit", "bad_data"]),
            )
        elif kind == "no_contact":
            fields.update(status=AssignmentStatus.REJECTED, rejected_at=touch, rejected_reason="no_contact")
        a = AssignmentFactory(**fields)
        for _ in range(rng.randint(0, 4) if kind == "no_contact" else 0):
            CallFactory(lead=a.lead, assignment=a, rep=a.rep)
    return qs


def _recompute(queues):
    """The figures straight from the rows, in plain Python."""
    from crm.models import Assignment

    agreements = {(a.queue_id, a.month): a for a in SalesAgreement.objects.all()}
    out = defaultdict(lambda: defaultdict(int))
    leads = defaultdict(set)
    for a in Assignment.objects.filter(queue__in=queues).prefetch_related("calls"):
        key = (a.queue_id, a.handed_off_at.astimezone(UTC).date().replace(day=1))
        cell = out[key]
        leads[key].add(a.lead_id)
        cell["delivered"] = len(leads[key])
        cell["accepted"] += a.accepted_at is not None
        if a.rejected_at is not None and a.rejected_reason != "no_contact":
            cell["rejected"] += 1
            cell[f"reason:{a.rejected_reason}"] += 1
        if a.rejected_reason == "no_contact":
            cell["no_contact"] += 1
        agreement = agreements.get(key)
        if agreement is None:
            continue
        if a.rejected_reason == "no_contact" and len(a.calls.all()) >= agreement.attempts_before_recycle:
            cell["attempts_kept"] += 1
        q = a.queue
        due = add_business_minutes(
            a.handed_off_at,
            agreement.first_touch_hours * 60,
            tz=q.timezone,
            start=q.business_hours_start,
            end=q.business_hours_end,
            days=q.business_days,
        )
        if a.first_touch_at is not None or due <= NOW:
            cell["touch_due"] += 1
            cell["touch_on_time"] += a.first_touch_at is not None and a.first_touch_at <= due
    return out, agreements


def test_the_figures_match_a_recomputation_from_the_rows():
    queues = _world()
    expected, agreements = _recompute(queues)

    report = agreement_report(now=NOW)

    assert report.months[-1] == datetime.date(2026, 6, 1) and len(report.months) == 6
    checked = 0
    for (queue_id, month), cell in report.cells.items():
        want = expected.get((queue_id, month), {})
        got = {
            "delivered": cell.delivered,
            "accepted": cell.accepted,
            "rejected": cell.rejected,
            "no_contact": cell.no_contact,
            "attempts_kept": cell.attempts_kept,
            "touch_due": cell.touch_due,
            "touch_on_time": cell.touch_on_time,
            **{f"reason:{k}": v for k, v in cell.reasons.items()},
        }
        assert {k: v for k, v in got.items() if v} == {k: v for k, v in want.items() if v}, (queue_id, month)
        assert cell.recycled == want.get("rejected", 0) + want.get("no_contact", 0)
        assert cell.agreement == agreements.get((queue_id, month))
        checked += bool(want)
    assert checked >= 5  # the random world filled most queue-months
    totals = {t["month"]: t for t in report.totals()}
    june = datetime.date(2026, 6, 1)
    assert totals[june]["target"] == sum(a.mql_target for (q, m), a in agreements.items() if m == june)
    assert totals[datetime.date(2026, 1, 1)]["target"] is None  # no agreement then


def test_a_first_touch_after_the_promised_business_hours_is_late():
    queue = SalesQueueFactory()  # Mon-Fri 9-17 UTC
    SalesAgreement.objects.create(
        queue=queue, month=datetime.date(2026, 6, 1), mql_target=2, first_touch_hours=2, attempts_before_recycle=2
    )
    friday_4pm = datetime.datetime(2026, 6, 5, 16, 0, tzinfo=UTC)
    # due Monday 10:00: one business hour on Friday, one on Monday
    AssignmentFactory(
        queue=queue, handed_off_at=friday_4pm, first_touch_at=datetime.datetime(2026, 6, 8, 9, 59, tzinfo=UTC)
    )
    AssignmentFactory(
        queue=queue, handed_off_at=friday_4pm, first_touch_at=datetime.datetime(2026, 6, 8, 10, 1, tzinfo=UTC)
    )

    cell = agreement_report(now=NOW).cells[(queue.pk, datetime.date(2026, 6, 1))]

    assert (cell.touch_on_time, cell.touch_due, cell.delivered) == (1, 2, 2)


# --- the page ----------------------------------------------------------------------------------


def test_the_empty_page_says_what_it_will_show(client_for, marketer):
    html = client_for(marketer).get("/agreement/").content.decode()
    assert "No agreement and no hand-offs in the last 6 months yet." in html
    assert "Save agreement" in html


@pytest.mark.parametrize("who", ["marketer", "manager"])
def test_managers_and_marketers_set_an_agreement(client_for, request, who):
    queue = SalesQueueFactory(name="EMEA inbound")
    user = request.getfixturevalue(who)
    data = {
        "queue": queue.pk,
        "month": "2026-05",
        "mql_target": 40,
        "first_touch_hours": 4,
        "attempts_before_recycle": 6,
    }

    response = client_for(user).post("/agreement/", data, follow=True)

    assert "Saved the agreement of EMEA inbound for May 2026." in response.content.decode()
    agreement = SalesAgreement.objects.get()
    assert (agreement.month, agreement.mql_target, agreement.updated_by) == (datetime.date(2026, 5, 1), 40, user)
    client_for(user).post("/agreement/", {**data, "mql_target": 45})
    assert SalesAgreement.objects.get().mql_target == 45  # the same queue and month: replaced


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("month", "2026-13", "Enter a month as YYYY-MM"),
        ("month", "soon", "Enter a month as YYYY-MM"),
        ("mql_target", "-1", "greater than or equal to 0"),
        ("mql_target", "lots", "Enter a whole number."),
        ("first_touch_hours", "0", "greater than or equal to 1"),
        ("first_touch_hours", "100000", "less than or equal to 240"),
        ("attempts_before_recycle", "", "This field is required."),
        ("queue", "999999", "Select a valid choice."),
    ],
)
def test_bad_input_is_a_field_error(client_for, manager, field, value, message):
    queue = SalesQueueFactory()
    data = {
        "queue": queue.pk,
        "month": "2026-05",
        "mql_target": 40,
        "first_touch_hours": 4,
        "attempts_before_recycle": 6,
    }

    response = client_for(manager).post("/agreement/", {**data, field: value})

    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="{field}-err"' in html and message in html
    assert not SalesAgreement.objects.exists()


@pytest.mark.parametrize("who", ["rep", "other_rep"])
def test_reps_read_the_agreement_but_cannot_change_it(client_for, request, who):
    queue = SalesQueueFactory(name="EMEA inbound")
    SalesAgreement.objects.create(
        queue=queue,
        month=timezone.now().date().replace(day=1),
        mql_target=40,
        first_touch_hours=4,
        attempts_before_recycle=6,
    )
    client = client_for(request.getfixturevalue(who))

    page = client.get("/agreement/")
    post = client.post(
        "/agreement/",
        {"queue": queue.pk, "month": "2026-05", "mql_target": 1, "first_touch_hours": 1, "attempts_before_recycle": 1},
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert "EMEA inbound" in html and "Save agreement" not in html and "you can read them here" in html
    assert post.status_code == 403
    assert SalesAgreement.objects.get().mql_target == 40


def test_a_user_without_a_role_is_refused(client_for, make_user):
    assert client_for(make_user()).get("/agreement/").status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    assert "/accounts/login/" in client.get("/agreement/")["Location"]


def test_the_page_costs_the_same_queries_for_one_queue_and_many(client_for, manager, count_queries):
    client = client_for(manager)
    this_month = timezone.now().date().replace(day=1)

    def fill(queue_count):
        for _ in range(queue_count):
            q = SalesQueueFactory()
            for month in months_back(this_month):
                SalesAgreement.objects.create(
                    queue=q, month=month, mql_target=5, first_touch_hours=4, attempts_before_recycle=3
                )
                at = datetime.datetime.combine(month, datetime.time(10), tzinfo=UTC) + datetime.timedelta(days=2)
                a = AssignmentFactory(
                    queue=q,
                    handed_off_at=at,
                    first_touch_at=at,
                    lead=LeadFactory(),
                    status=AssignmentStatus.REJECTED,
                    rejected_at=at,
                    rejected_reason="no_contact",
                )
                CallFactory(lead=a.lead, assignment=a, rep=a.rep)

    fill(1)
    few = count_queries(lambda: client.get("/agreement/"))
    fill(3)
    many = count_queries(lambda: client.get("/agreement/"))
    assert many == few
    assert "<svg" in client.get("/agreement/").content.decode()
