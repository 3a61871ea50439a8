import datetime
import zoneinfo

import pytest
from django.db import connection
from django.db.models import IntegerField
from django.urls import reverse
from django.utils import timezone

from crm.models import FollowUpKind
from crm.selectors import (
    BUCKET_CHECK_IN,
    BUCKET_DUE,
    BUCKET_LATER,
    BUCKET_NEW,
    BUCKET_OVERDUE,
    CompiledQuery,
    Param,
    call_list_for_rep,
    compiled_query,
)
from leads.models import Lead, LifecycleStage
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.crm.factories import AccountFactory, CallFactory, ContactFactory, FollowUpFactory
from tests.crm.sales_fixtures import assigned_lead
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db

CANDIDATE_ZONES = [f"Etc/GMT{offset:+d}" for offset in range(-12, 13) if offset] + ["UTC"]


def zone_where(inside: bool) -> str:
    now = timezone.now()
    for name in CANDIDATE_ZONES:
        hour = now.astimezone(zoneinfo.ZoneInfo(name)).hour
        if (9 <= hour < 20) == inside:
            return name
    raise AssertionError("no zone found")


INSIDE = zone_where(True)
OUTSIDE = zone_where(False)


def _ago(**kwargs):
    return timezone.now() - datetime.timedelta(**kwargs)


def _ahead(**kwargs):
    return timezone.now() + datetime.timedelta(**kwargs)


@pytest.fixture
def book(rep, other_rep):
    """One lead of every kind for ``rep`` (plus noise), keyed by what it is."""
    leads = {}
    leads["overdue"] = assigned_lead(
        rep, timezone=INSIDE, score=10, assignment={"sla_due_at": _ago(minutes=30), "handed_off_at": _ago(hours=2)}
    )
    leads["more_overdue"] = assigned_lead(
        rep, timezone=INSIDE, score=5, assignment={"sla_due_at": _ago(hours=3), "handed_off_at": _ago(hours=5)}
    )
    callback = assigned_lead(
        rep, timezone=INSIDE, score=1, assignment={"first_touch_at": _ago(days=1), "sla_due_at": _ago(days=1)}
    )
    FollowUpFactory(rep=rep, lead=callback.lead, kind=FollowUpKind.CALLBACK, due_at=_ago(minutes=5))
    leads["callback"] = callback
    leads["new_high"] = assigned_lead(
        rep, timezone=INSIDE, score=90, assignment={"sla_due_at": _ahead(hours=1), "handed_off_at": _ago(minutes=10)}
    )
    leads["new_equal_older"] = assigned_lead(
        rep, timezone=INSIDE, score=50, assignment={"sla_due_at": _ahead(hours=1), "handed_off_at": _ago(minutes=50)}
    )
    leads["new_equal_newer"] = assigned_lead(
        rep, timezone=INSIDE, score=50, assignment={"sla_due_at": _ahead(hours=1), "handed_off_at": _ago(minutes=5)}
    )
    customer = LeadFactory(stage=LifecycleStage.CUSTOMER, owner=rep, timezone=INSIDE)
    ContactFactory(
        lead=customer, account=AccountFactory(owner=rep, is_customer=True, next_check_in_on=timezone.localdate())
    )
    leads["check_in"] = customer
    later = assigned_lead(
        rep, timezone=INSIDE, score=99, assignment={"first_touch_at": _ago(hours=1), "sla_due_at": _ago(hours=2)}
    )
    FollowUpFactory(rep=rep, lead=later.lead, due_at=_ahead(days=2))
    leads["later"] = later
    leads["outside_hours"] = assigned_lead(rep, timezone=OUTSIDE, score=100, assignment={"sla_due_at": _ago(hours=5)})
    # Never on the list: do-not-call, another rep's lead, a customer with no check-in due.
    assigned_lead(rep, timezone=INSIDE, do_not_call=True, assignment={"sla_due_at": _ago(hours=9)})
    assigned_lead(other_rep, timezone=INSIDE, assignment={"sla_due_at": _ago(hours=9)})
    quiet = LeadFactory(stage=LifecycleStage.CUSTOMER, owner=rep, timezone=INSIDE)
    ContactFactory(
        lead=quiet, account=AccountFactory(owner=rep, is_customer=True, next_check_in_on=_ahead(days=30).date())
    )
    return leads


def _lead_id(item):
    return getattr(item, "lead_id", None) or item.pk


def test_the_call_list_is_in_the_agreed_order(rep, book):
    rows = call_list_for_rep(rep=rep)

    expected = [
        "more_overdue",
        "overdue",
        "callback",
        "new_high",
        "new_equal_newer",
        "new_equal_older",
        "check_in",
        "later",
        "outside_hours",
    ]
    assert [row.lead.pk for row in rows] == [_lead_id(book[name]) for name in expected]
    assert [row.bucket for row in rows] == [
        BUCKET_OVERDUE,
        BUCKET_OVERDUE,
        BUCKET_DUE,
        BUCKET_NEW,
        BUCKET_NEW,
        BUCKET_NEW,
        BUCKET_CHECK_IN,
        BUCKET_LATER,
        BUCKET_OVERDUE,
    ]
    assert [row.outside_hours for row in rows] == [False] * 8 + [True]


def test_rows_carry_reasons_campaign_last_touch_and_attempts(rep):
    assignment = assigned_lead(
        rep,
        timezone=INSIDE,
        score_breakdown=[
            {"rule": "Industry is software", "points": 20},
            {"label": "Webinar attended", "points": 35},
            {"rule": "Small company", "points": -5},
            {"nonsense": True},
            "garbage",
        ],
    )
    CampaignMemberFactory(lead=assignment.lead, campaign=CampaignFactory(name="Old"), added_at=_ago(days=9))
    CampaignMemberFactory(lead=assignment.lead, campaign=CampaignFactory(name="Spring webinar"), added_at=_ago(days=1))
    CallFactory(rep=rep, lead=assignment.lead, assignment=assignment, called_at=_ago(hours=3))
    CallFactory(rep=rep, lead=assignment.lead, assignment=assignment, called_at=_ago(hours=1))

    (row,) = call_list_for_rep(rep=rep)

    assert [r["label"] for r in row.reasons] == ["Webinar attended", "Industry is software", "Small company"]
    assert row.source_campaign == "Spring webinar"
    assert row.attempts == 2
    assert row.last_touch_at == assignment.lead.calls.order_by("-called_at").first().called_at


def test_a_score_breakdown_that_is_not_a_list_does_not_break_the_list(rep):
    assigned_lead(rep, score_breakdown={"fit": [{"rule": "ICP", "points": 30}], "engagement": 12})
    (row,) = call_list_for_rep(rep=rep)
    assert [r["label"] for r in row.reasons] == ["ICP", "engagement"]


def test_the_page_shows_the_rows_and_marks_leads_outside_calling_hours(client_for, rep, book):
    response = client_for(rep).get(reverse("crm:call-list"))

    assert response.status_code == 200
    body = response.content.decode()
    order = [int(part.split('"')[0]) for part in body.split('data-lead-id="')[1:]]
    assert order[0] == book["more_overdue"].lead_id
    assert order[-1] == book["outside_hours"].lead_id
    assert body.count("Outside calling hours ·") == 1
    assert 'id="next-call"' in body and 'accesskey="n"' in body


def test_next_call_opens_the_top_lead(client_for, rep, book):
    response = client_for(rep).get(reverse("crm:next-call"))
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:lead-detail", args=[book["more_overdue"].lead_id])


def test_next_call_with_an_empty_list_goes_back_to_the_list(client_for, rep):
    response = client_for(rep).get(reverse("crm:next-call"))
    assert response["Location"] == reverse("crm:call-list")


def test_marketing_has_no_call_list(client_for, marketer):
    assert client_for(marketer).get(reverse("crm:call-list")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("crm:call-list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _fill(rep, n):
    campaign = CampaignFactory()
    for i in range(n):
        assignment = assigned_lead(
            rep, timezone=INSIDE if i % 2 else OUTSIDE, score=i, score_breakdown=[{"rule": "r", "points": i}]
        )
        CampaignMemberFactory(lead=assignment.lead, campaign=campaign)
        CallFactory(rep=rep, lead=assignment.lead, assignment=assignment)
        FollowUpFactory(rep=rep, lead=assignment.lead, due_at=_ago(minutes=i + 1))
    for _ in range(max(1, n // 3)):
        customer = LeadFactory(stage=LifecycleStage.CUSTOMER, owner=rep, timezone=INSIDE)
        ContactFactory(
            lead=customer, account=AccountFactory(owner=rep, is_customer=True, next_check_in_on=timezone.localdate())
        )


@pytest.mark.parametrize("rows", [1, 30])
def test_the_call_list_page_runs_a_constant_number_of_queries(client_for, rep, django_assert_num_queries, rows):
    _fill(rep, rows)
    client = client_for(rep)
    # session, user, the user's groups (roles), the ranked assignments, the customer check-ins
    # (+ on PostgreSQL: SAVEPOINT, SET LOCAL, RELEASE, to plan it without parallel workers)
    with django_assert_num_queries(5 + (3 if connection.vendor == "postgresql" else 0)):
        response = client.get(reverse("crm:call-list"))
    assert response.status_code == 200
    assert response.content.decode().count('class="lead-link"') == rows + max(1, rows // 3)


def test_the_compiled_call_list_gives_each_rep_only_their_own_leads(rep, other_rep):
    mine = assigned_lead(rep, timezone=INSIDE)
    theirs = assigned_lead(other_rep, timezone=INSIDE)

    first = [row.lead.pk for row in call_list_for_rep(rep=rep)]
    # The second rep's list runs the statement compiled for the first one.
    second = [row.lead.pk for row in call_list_for_rep(rep=other_rep)]

    assert first == [mine.lead_id]
    assert second == [theirs.lead_id]


def test_the_compiled_call_list_is_ranked_at_the_time_it_is_asked_for(rep):
    sla_due = timezone.now() + datetime.timedelta(minutes=30)
    assigned_lead(rep, timezone=INSIDE, assignment={"sla_due_at": sla_due})

    (before,) = call_list_for_rep(rep=rep, now=sla_due - datetime.timedelta(minutes=1))
    (after,) = call_list_for_rep(rep=rep, now=sla_due + datetime.timedelta(minutes=1))

    assert before.bucket == BUCKET_NEW
    assert after.bucket == BUCKET_OVERDUE


def test_the_call_list_statements_are_compiled_once_per_limit(rep):
    assigned_lead(rep, timezone=INSIDE)
    call_list_for_rep(rep=rep, limit=7)
    compiled = compiled_query(("call_list_assignments", 7), lambda: pytest.fail("compiled again"))

    (row,) = call_list_for_rep(rep=rep, limit=7)

    assert compiled is compiled_query(("call_list_assignments", 7), lambda: pytest.fail("compiled again"))
    assert row.assignment is not None


def test_a_param_left_unbound_is_an_error_not_a_silent_value(rep):
    compiled = CompiledQuery(
        Lead.objects.filter(owner_id=Param("rep", IntegerField())).values("id"), connection=connection
    )
    with pytest.raises(KeyError):
        compiled.rows()
    assert compiled.rows(rep=rep.pk) == []


# --- Paging -------------------------------------------------------------------------------------


@pytest.fixture
def page_of_three(monkeypatch):
    monkeypatch.setattr("crm.views.CALL_LIST_PAGE_SIZE", 3)


def _order(body):
    return [int(part.split('"')[0]) for part in body.split('data-lead-id="')[1:]]


def _ranks(body):
    return [int(part.split("<")[0]) for part in body.split('<td class="rank">')[1:]]


def test_the_offset_continues_the_same_ranking(rep, book):
    everything = [row.lead.pk for row in call_list_for_rep(rep=rep)]

    assert [row.lead.pk for row in call_list_for_rep(rep=rep, limit=3, offset=3)] == everything[3:6]
    assert [row.lead.pk for row in call_list_for_rep(rep=rep, limit=3, offset=6)] == everything[6:9]


def test_a_long_list_is_shown_a_page_at_a_time_with_a_link_to_the_next(client_for, rep, book, page_of_three):
    everything = [row.lead.pk for row in call_list_for_rep(rep=rep)]
    client = client_for(rep)

    first = client.get(reverse("crm:call-list")).content.decode()
    second = client.get(reverse("crm:call-list"), {"page": 2}).content.decode()
    last = client.get(reverse("crm:call-list"), {"page": 3}).content.decode()

    assert _order(first) + _order(second) + _order(last) == everything
    assert _ranks(second) == [4, 5, 6]
    assert 'href="?page=2"' in first and "Show the next 3" in first
    assert 'href="?page=3"' in second
    assert "Show the next" not in last
    assert 'id="next-call"' in first and 'id="next-call"' not in second


def test_htmx_gets_only_the_next_rows_and_the_next_link(client_for, rep, book, page_of_three):
    response = client_for(rep).get(reverse("crm:call-list"), {"page": 2}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "<table" not in body
    assert body.lstrip().startswith('<tr class="bucket-')
    assert _ranks(body) == [4, 5, 6]
    assert 'hx-get="?page=3"' in body
    assert "HX-Request" in response["Vary"]


def test_a_page_past_the_end_says_so(client_for, rep, book, page_of_three):
    response = client_for(rep).get(reverse("crm:call-list"), {"page": 4})

    assert response.status_code == 200
    assert "no more leads" in response.content.decode()


@pytest.mark.parametrize("number", ["0", "-1", "two", "101", ""])
def test_a_bad_page_number_is_a_clear_error(client_for, rep, number):
    response = client_for(rep).get(reverse("crm:call-list"), {"page": number})

    assert response.status_code == 400
    assert response.content.decode().startswith("page: ")


@pytest.mark.parametrize("rows", [6, 30])
def test_a_later_page_runs_a_constant_number_of_queries(
    client_for, rep, django_assert_num_queries, page_of_three, rows
):
    _fill(rep, rows)
    client = client_for(rep)
    # As the first page: session, user, roles, the ranked assignments, the check-ins (+ PostgreSQL's
    # SAVEPOINT, SET LOCAL, RELEASE).
    with django_assert_num_queries(5 + (3 if connection.vendor == "postgresql" else 0)):
        response = client.get(reverse("crm:call-list"), {"page": 2}, headers={"HX-Request": "true"})
    assert response.content.decode().count('class="lead-link"') == 3


def test_the_compiled_statements_kept_per_thread_are_bounded(rep, monkeypatch):
    monkeypatch.setattr("crm.selectors.COMPILED_QUERIES_PER_THREAD", 2)
    first = compiled_query(("bounded", 1), lambda: Lead.objects.values("id"))
    compiled_query(("bounded", 2), lambda: Lead.objects.values("id"))
    compiled_query(("bounded", 3), lambda: Lead.objects.values("id"))

    assert compiled_query(("bounded", 1), lambda: Lead.objects.values("id")) is not first
