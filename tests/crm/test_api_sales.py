"""The sales API: roles, row visibility, errors naming the field, no mass assignment, and a
constant number of queries on every list."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from crm.models import Call, Deal, DealStage, ObjectionNote
from crm.services.calls import call_log
from crm.services.deals import deal_convert
from leads.models import Lead, LifecycleStage
from tests.crm.factories import AccountFactory, CallFactory, ContactFactory, DealFactory, ObjectionNoteFactory
from tests.crm.sales_fixtures import accepted_lead, assigned_lead

pytestmark = pytest.mark.django_db


def _error_fields(response):
    return response.json()["error"]["fields"]


# --- /api/call-list/ ----------------------------------------------------------------------------


def test_the_call_list_api_returns_the_reps_rows_best_first(api_for, rep, other_rep):
    overdue = assigned_lead(
        rep, timezone="UTC", assignment={"sla_due_at": timezone.now() - datetime.timedelta(hours=1)}
    )
    assigned_lead(other_rep)

    response = api_for(rep).get("/api/call-list/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["lead"] for row in rows] == [overdue.lead_id]
    assert {
        "name",
        "company",
        "reasons",
        "source_campaign",
        "sla_seconds_left",
        "last_touch_at",
        "attempts",
        "outside_calling_hours",
    } <= set(rows[0])


@pytest.mark.parametrize("limit", ["0", "500", "ten"])
def test_a_bad_limit_names_the_field(api_for, rep, limit):
    response = api_for(rep).get(f"/api/call-list/?limit={limit}")
    assert response.status_code == 400
    assert "limit" in _error_fields(response)


def test_a_rep_cannot_read_another_reps_call_list(api_for, rep, other_rep):
    response = api_for(rep).get(f"/api/call-list/?rep={other_rep.pk}")
    assert response.status_code == 400 and "rep" in _error_fields(response)


def test_a_manager_reads_any_reps_call_list(api_for, manager, rep):
    assignment = assigned_lead(rep)
    response = api_for(manager).get(f"/api/call-list/?rep={rep.pk}")
    assert [row["lead"] for row in response.json()["results"]] == [assignment.lead_id]


def test_marketing_has_no_call_list_api(api_for, marketer):
    assert api_for(marketer).get("/api/call-list/").status_code == 403


@pytest.mark.parametrize("rows", [1, 30])
def test_the_call_list_api_runs_a_constant_number_of_queries(api_for, rep, django_assert_num_queries, rows):
    for _ in range(rows):
        assignment = assigned_lead(rep)
        CallFactory(rep=rep, lead=assignment.lead, assignment=assignment)
    api = api_for(rep)
    # groups (roles), ranked assignments, customer check-ins (+ SAVEPOINT, SET LOCAL, RELEASE on PostgreSQL)
    with django_assert_num_queries(3 + (3 if connection.vendor == "postgresql" else 0)):
        response = api.get("/api/call-list/")
    assert len(response.json()["results"]) == rows
    rep._baton_roles = None  # looked up again, as on a fresh request
    with django_assert_num_queries(3 + (3 if connection.vendor == "postgresql" else 0)):
        later = api.get("/api/call-list/?offset=1")
    assert len(later.json()["results"]) == rows - 1


# --- /api/calls/ ---------------------------------------------------------------------------------


def test_a_rep_logs_a_call_with_an_objection(api_for, rep):
    assignment = assigned_lead(rep)
    response = api_for(rep).post(
        "/api/calls/",
        {
            "lead": assignment.lead_id,
            "outcome": "connected",
            "duration_seconds": 240,
            "notes": "Good chat",
            "next_step_at": (timezone.now() + datetime.timedelta(days=1)).isoformat(),
            "objections": [{"category": "timing", "said": "Next quarter", "overcome": False}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["rep"] == rep.username and body["objections"][0]["category"] == "timing"


def test_owner_assignment_and_timestamps_cannot_be_written_on_a_call(api_for, rep, other_rep):
    assignment = assigned_lead(rep)
    response = api_for(rep).post(
        "/api/calls/",
        {
            "lead": assignment.lead_id,
            "outcome": "connected",
            "duration_seconds": 1,
            "rep": other_rep.pk,
            "assignment": 999,
            "created_at": "2001-01-01T00:00:00Z",
        },
        format="json",
    )
    call = Call.objects.get(pk=response.json()["id"])
    assert call.rep == rep and call.assignment_id == assignment.pk and call.created_at.year > 2001


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"duration_seconds": -1}, "duration_seconds"),
        ({"called_at": "2999-01-01T00:00:00Z"}, "called_at"),
        ({"next_step_at": "2001-01-01T00:00:00Z"}, "next_step_at"),
        ({"outcome": "shouted"}, "outcome"),
        ({"objections": [{"category": "weather"}]}, "objections.0.category"),
    ],
)
def test_bad_call_input_is_a_400_naming_the_field(api_for, rep, payload, field):
    assignment = assigned_lead(rep)
    data = {"lead": assignment.lead_id, "outcome": "connected", "duration_seconds": 10, **payload}
    response = api_for(rep).post("/api/calls/", data, format="json")
    assert response.status_code == 400
    assert field in _error_fields(response)
    assert not Call.objects.exists()


def test_logging_a_call_on_another_reps_lead_is_not_found(api_for, rep, other_rep):
    assignment = assigned_lead(other_rep)
    response = api_for(rep).post("/api/calls/", {"lead": assignment.lead_id, "outcome": "connected"}, format="json")
    assert response.status_code == 400
    assert "not found" in _error_fields(response)["lead"][0]


def test_marketing_cannot_log_calls(api_for, marketer, rep):
    assignment = assigned_lead(rep)
    response = api_for(marketer).post(
        "/api/calls/", {"lead": assignment.lead_id, "outcome": "connected"}, format="json"
    )
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_a_rep_lists_only_their_calls_and_another_reps_call_is_a_404(api_for, rep, other_rep):
    mine = CallFactory(rep=rep)
    theirs = CallFactory(rep=other_rep)
    api = api_for(rep)
    assert [c["id"] for c in api.get("/api/calls/").json()["results"]] == [mine.pk]
    assert api.get(f"/api/calls/{theirs.pk}/").status_code == 404


def test_a_manager_lists_every_call(api_for, manager, rep, other_rep):
    CallFactory(rep=rep)
    CallFactory(rep=other_rep)
    assert api_for(manager).get("/api/calls/").json()["count"] == 2


@pytest.mark.parametrize("rows", [1, 20])
def test_the_call_history_runs_a_constant_number_of_queries(api_for, rep, django_assert_num_queries, rows):
    for _ in range(rows):
        ObjectionNoteFactory(call=CallFactory(rep=rep))
    api = api_for(rep)
    with django_assert_num_queries(4):  # groups, count, page, objections
        response = api.get("/api/calls/")
    assert response.json()["count"] == rows


# --- /api/objections/ ----------------------------------------------------------------------------


def test_objections_rep_sees_own_and_marketing_reads_only_the_summary(api_for, rep, other_rep, marketer):
    ObjectionNoteFactory(call=CallFactory(rep=rep), category="price", overcome=True)
    ObjectionNoteFactory(call=CallFactory(rep=other_rep), category="price")
    ObjectionNoteFactory(call=CallFactory(rep=other_rep), category="timing")

    assert api_for(rep).get("/api/objections/").json()["count"] == 1
    assert api_for(marketer).get("/api/objections/").status_code == 403
    summary = api_for(marketer).get("/api/objections/summary/").json()
    assert summary == [
        {"category": "price", "total": 2, "overcome": 1},
        {"category": "timing", "total": 1, "overcome": 0},
    ]


@pytest.mark.parametrize("rows", [1, 20])
def test_the_objection_list_runs_a_constant_number_of_queries(api_for, manager, django_assert_num_queries, rows):
    for _ in range(rows):
        ObjectionNoteFactory()
    api = api_for(manager)
    with django_assert_num_queries(3):  # groups, count, page
        response = api.get("/api/objections/")
    assert response.json()["count"] == rows


# --- /api/deals/ ------------------------------------------------------------------------------------


def test_converting_through_the_api_ignores_owner_stage_and_timestamps(api_for, rep, other_rep):
    assignment = accepted_lead(rep)
    response = api_for(rep).post(
        "/api/deals/",
        {
            "lead": assignment.lead_id,
            "amount": "900.00",
            "owner": other_rep.pk,
            "stage": "won",
            "closed_at": "2020-01-01T00:00:00Z",
            "score": 100,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    deal = Deal.objects.get()
    assert (deal.owner, deal.stage, deal.closed_at) == (rep, DealStage.QUALIFICATION, None)


def test_converting_another_reps_lead_names_the_field(api_for, rep, other_rep):
    assignment = accepted_lead(other_rep)
    response = api_for(rep).post("/api/deals/", {"lead": assignment.lead_id, "amount": "1"}, format="json")
    assert response.status_code == 400
    assert "not found" in _error_fields(response)["lead"][0]
    assert not Deal.objects.exists()


def test_patching_a_deal_changes_amount_but_never_stage_or_owner(api_for, rep, other_rep):
    deal = deal_convert(lead_id=accepted_lead(rep).lead_id, actor=rep, amount=1)
    response = api_for(rep).patch(
        f"/api/deals/{deal.pk}/", {"amount": "77.00", "stage": "won", "owner": other_rep.pk}, format="json"
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert (str(deal.amount), deal.stage, deal.owner) == ("77.00", DealStage.QUALIFICATION, rep)


def test_move_then_close_won_through_the_api(api_for, rep):
    deal = deal_convert(lead_id=accepted_lead(rep).lead_id, actor=rep, amount=1)
    api = api_for(rep)
    assert api.post(f"/api/deals/{deal.pk}/move/", {"stage": "proposal"}, format="json").json()["stage"] == "proposal"
    response = api.post(f"/api/deals/{deal.pk}/close/", {"won": True}, format="json")
    assert response.json()["stage"] == "won"
    assert Lead.objects.get(pk=deal.lead_id).stage == LifecycleStage.CUSTOMER


def test_closing_twice_or_lost_without_a_reason_is_a_400_naming_the_field(api_for, rep):
    deal = deal_convert(lead_id=accepted_lead(rep).lead_id, actor=rep, amount=1)
    api = api_for(rep)
    response = api.post(f"/api/deals/{deal.pk}/close/", {"won": False}, format="json")
    assert response.status_code == 400 and "lost_reason" in _error_fields(response)
    api.post(f"/api/deals/{deal.pk}/close/", {"won": True}, format="json")
    response = api.post(f"/api/deals/{deal.pk}/close/", {"won": True}, format="json")
    assert response.status_code == 400 and "stage" in _error_fields(response)


def test_another_reps_deal_is_a_404_for_read_move_and_close(api_for, rep, other_rep):
    deal = DealFactory(owner=other_rep)
    api = api_for(rep)
    assert api.get(f"/api/deals/{deal.pk}/").status_code == 404
    assert api.post(f"/api/deals/{deal.pk}/move/", {"stage": "proposal"}, format="json").status_code == 404
    assert api.post(f"/api/deals/{deal.pk}/close/", {"won": True}, format="json").status_code == 404


def test_marketing_reads_deal_outcomes_in_aggregate_only(api_for, marketer, rep):
    DealFactory(owner=rep, stage="lost", lost_reason="price", closed_at=timezone.now(), amount=10)
    DealFactory(owner=rep, amount=5)
    api = api_for(marketer)
    assert api.get("/api/deals/").status_code == 403
    assert api.post(f"/api/deals/{Deal.objects.first().pk}/close/", {"won": True}, format="json").status_code == 403
    summary = api.get("/api/deals/summary/").json()
    assert {(row["stage"], row["lost_reason"], row["count"]) for row in summary} == {
        ("lost", "price", 1),
        ("qualification", "", 1),
    }


@pytest.mark.parametrize("rows", [1, 20])
def test_the_deal_list_runs_a_constant_number_of_queries(api_for, rep, django_assert_num_queries, rows):
    for _ in range(rows):
        DealFactory(owner=rep, contact=ContactFactory())
    api = api_for(rep)
    with django_assert_num_queries(3):  # groups, count, page
        response = api.get("/api/deals/")
    assert response.json()["count"] == rows


# --- /api/accounts/ and /api/contacts/ ---------------------------------------------------------------


def test_accounts_and_contacts_are_the_reps_own(api_for, rep, other_rep, marketer):
    mine = AccountFactory(owner=rep)
    ContactFactory(account=mine)
    via_deal = DealFactory(owner=rep, account=AccountFactory(owner=other_rep)).account
    theirs = AccountFactory(owner=other_rep)
    ContactFactory(account=theirs)
    api = api_for(rep)

    assert {a["id"] for a in api.get("/api/accounts/").json()["results"]} == {mine.pk, via_deal.pk}
    assert api.get(f"/api/accounts/{theirs.pk}/").status_code == 404
    assert [c["account"] for c in api.get("/api/contacts/").json()["results"]] == [mine.pk]
    assert api_for(marketer).get("/api/accounts/").status_code == 403


@pytest.mark.parametrize("rows", [1, 20])
def test_account_and_contact_lists_run_a_constant_number_of_queries(api_for, rep, django_assert_num_queries, rows):
    for _ in range(rows):
        ContactFactory(account=AccountFactory(owner=rep))
    api = api_for(rep)
    with django_assert_num_queries(3):
        api.get("/api/accounts/")
    with django_assert_num_queries(2):  # roles are cached on the user now: count, page
        response = api.get("/api/contacts/")
    assert response.json()["count"] == rows


def test_a_customer_call_through_the_api(api_for, rep):
    contact = ContactFactory(account=AccountFactory(owner=rep, is_customer=True))
    response = api_for(rep).post(
        "/api/calls/", {"contact": contact.pk, "outcome": "connected", "duration_seconds": 60}, format="json"
    )
    assert response.status_code == 201
    assert Call.objects.get().contact == contact


def test_objection_notes_written_by_call_log_are_listed_for_the_rep(api_for, rep):
    assignment = assigned_lead(rep)
    call_log(
        rep=rep, lead_id=assignment.lead_id, outcome="connected", duration_seconds=5, objections=[{"category": "need"}]
    )
    assert ObjectionNote.objects.count() == 1
    assert api_for(rep).get("/api/objections/").json()["results"][0]["category"] == "need"


def test_the_call_list_api_pages_with_an_offset(api_for, rep):
    for score in (90, 80, 70):
        assigned_lead(rep, timezone="UTC", score=score)
    api = api_for(rep)
    everything = [row["lead"] for row in api.get("/api/call-list/").json()["results"]]

    rows = api.get("/api/call-list/?limit=1&offset=1").json()["results"]

    assert [row["lead"] for row in rows] == everything[1:2]


@pytest.mark.parametrize("offset", ["-1", "4801", "one"])
def test_a_bad_offset_names_the_field(api_for, rep, offset):
    response = api_for(rep).get(f"/api/call-list/?offset={offset}")
    assert response.status_code == 400
    assert "offset" in _error_fields(response)
