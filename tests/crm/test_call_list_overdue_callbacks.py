"""Issue 21 item 12: a callback due yesterday ranks and reads as overdue, not "Callback due"."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import FollowUpKind
from crm.selectors import BUCKET_CALLBACK_OVERDUE, BUCKET_DUE, BUCKET_NEW, BUCKET_OVERDUE, call_list_for_rep
from tests.crm.factories import FollowUpFactory
from tests.crm.sales_fixtures import assigned_lead

pytestmark = pytest.mark.django_db

# A zone inside calling hours right now, so no row is pushed down as "outside calling hours".
INSIDE = next(
    f"Etc/GMT{o:+d}"
    for o in range(-12, 13)
    if o and 9 <= timezone.now().astimezone(datetime.timezone(datetime.timedelta(hours=-o))).hour < 20
)


def _ago(**kwargs):
    return timezone.now() - datetime.timedelta(**kwargs)


def _called_with_callback(rep, *, due_at, score):
    assignment = assigned_lead(
        rep, timezone=INSIDE, score=score, assignment={"first_touch_at": _ago(days=2), "sla_due_at": _ago(days=2)}
    )
    FollowUpFactory(rep=rep, lead=assignment.lead, kind=FollowUpKind.CALLBACK, due_at=due_at)
    return assignment


@pytest.fixture
def book(rep):
    return {
        "sla_overdue": assigned_lead(rep, timezone=INSIDE, score=1, assignment={"sla_due_at": _ago(minutes=10)}),
        "callback_just_due": _called_with_callback(rep, due_at=_ago(minutes=5), score=99),
        "callback_yesterday": _called_with_callback(rep, due_at=_ago(days=1), score=1),
        "callback_two_hours": _called_with_callback(rep, due_at=_ago(hours=2), score=50),
        "new": assigned_lead(rep, timezone=INSIDE, score=100, assignment={"sla_due_at": _ago(minutes=-60)}),
    }


def test_overdue_callbacks_rank_right_after_sla_overdue_and_before_callbacks_just_due(rep, book):
    rows = call_list_for_rep(rep=rep)

    order = ["sla_overdue", "callback_yesterday", "callback_two_hours", "callback_just_due", "new"]
    assert [row.lead.pk for row in rows] == [book[name].lead_id for name in order]
    assert [row.bucket for row in rows] == [
        BUCKET_OVERDUE,
        BUCKET_CALLBACK_OVERDUE,
        BUCKET_CALLBACK_OVERDUE,
        BUCKET_DUE,
        BUCKET_NEW,
    ]


def test_an_overdue_callback_reads_as_overdue_on_the_page(client_for, rep, book):
    html = client_for(rep).get(reverse("crm:call-list")).content.decode()

    row = html.split(f'data-lead-id="{book["callback_yesterday"].lead_id}"')[1].split("</tr>")[0]
    assert '<span class="badge overdue">Callback overdue</span>' in row
    assert '<span class="callback late">callback overdue 24 h' in row
    just_due = html.split(f'data-lead-id="{book["callback_just_due"].lead_id}"')[1].split("</tr>")[0]
    assert "Callback due" in just_due and "overdue" not in just_due


def test_the_api_says_callback_overdue_too(api_for, rep, book):
    rows = api_for(rep).get("/api/call-list/").json()["results"]
    labels = {row["lead"]["id"] if isinstance(row["lead"], dict) else row["lead"]: row["bucket_label"] for row in rows}
    assert labels[book["callback_yesterday"].lead_id] == "Callback overdue"


def test_the_grace_before_a_callback_is_overdue_is_a_setting(rep, book, settings):
    settings.CALLBACK_OVERDUE_AFTER_MINUTES = 3 * 60
    rows = {row.lead.pk: row.bucket for row in call_list_for_rep(rep=rep)}
    assert rows[book["callback_two_hours"].lead_id] == BUCKET_DUE
    assert rows[book["callback_yesterday"].lead_id] == BUCKET_CALLBACK_OVERDUE
