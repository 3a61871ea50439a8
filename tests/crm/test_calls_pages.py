"""The rep's lead page: what it shows, who may open it, and the forms on it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import AssignmentStatus, Call, CallOutcome, Deal, FollowUp, ObjectionNote
from leads.models import Lead, LifecycleStage
from tests.campaigns.factories import CampaignMemberFactory, CollateralFactory
from tests.crm.factories import CallFactory, ObjectionNoteFactory
from tests.crm.sales_fixtures import accepted_lead, assigned_lead
from tests.leads.factories import EngagementEventFactory, LeadTransitionFactory

pytestmark = pytest.mark.django_db


def _page(lead_id):
    return reverse("crm:lead-detail", args=[lead_id])


def _call_data(**overrides):
    data = {
        "outcome": CallOutcome.CONNECTED,
        "duration_minutes": "3",
        "notes": "Talked budgets.",
        "next_step_at": "",
        "objections-TOTAL_FORMS": "1",
        "objections-INITIAL_FORMS": "0",
        "objections-MIN_NUM_FORMS": "0",
        "objections-MAX_NUM_FORMS": "10",
        "objections-0-category": "",
        "objections-0-said": "",
        "objections-0-response": "",
        "objections-0-collateral_id": "",
    }
    data.update(overrides)
    return data


def test_the_rep_sees_everything_needed_for_the_call(client_for, rep):
    assignment = assigned_lead(
        rep, score_breakdown=[{"rule": "Industry is software", "points": 20}], phone="+49 30 1234"
    )
    lead = assignment.lead
    CallFactory(rep=rep, lead=lead, assignment=assignment, notes="Left a message")
    ObjectionNoteFactory(call=lead.calls.first(), said="We use a spreadsheet")
    CampaignMemberFactory(lead=lead)
    EngagementEventFactory(lead=lead)
    LeadTransitionFactory(lead=lead, from_stage="mql", to_stage="handed_off")
    CollateralFactory(title="Price objection handbook", objection_categories=["price"])

    response = client_for(rep).get(_page(lead.pk))

    body = response.content.decode()
    assert response.status_code == 200
    for text in (
        "+49 30 1234",
        "Industry is software",
        "We use a spreadsheet",
        "Left a message",
        "Campaign:",
        "Price objection handbook",
        "Accept lead",
        "Reject lead",
        "Log call",
        'for="id_outcome_0"',
    ):
        assert text in body, text


def test_another_reps_lead_page_is_not_found(client_for, rep, other_rep):
    assignment = assigned_lead(other_rep)
    assert client_for(rep).get(_page(assignment.lead_id)).status_code == 404


def test_a_manager_may_open_any_lead_page(client_for, manager, rep):
    assignment = assigned_lead(rep)
    assert client_for(manager).get(_page(assignment.lead_id)).status_code == 200


def test_marketing_cannot_open_the_rep_lead_page(client_for, marketer, rep):
    assignment = assigned_lead(rep)
    assert client_for(marketer).get(_page(assignment.lead_id)).status_code == 403


@pytest.mark.parametrize("history", [1, 15])
def test_the_lead_page_runs_a_constant_number_of_queries(client_for, rep, django_assert_num_queries, history):
    assignment = assigned_lead(rep)
    lead = assignment.lead
    for _ in range(history):
        call = CallFactory(rep=rep, lead=lead, assignment=assignment)
        ObjectionNoteFactory(call=call)
        EngagementEventFactory(lead=lead)
        CampaignMemberFactory(lead=lead)
        LeadTransitionFactory(lead=lead)
        CollateralFactory()
    client = client_for(rep)
    with django_assert_num_queries(16):  # 16th: the consent records (leads.api.consent_overview)
        response = client.get(_page(lead.pk))
    assert response.status_code == 200


def test_logging_a_call_with_an_objection_and_a_follow_up(client_for, rep):
    assignment = assigned_lead(rep)
    collateral = CollateralFactory(objection_categories=["price"])
    next_step = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client_for(rep).post(
        reverse("crm:lead-log-call", args=[assignment.lead_id]),
        _call_data(
            outcome=CallOutcome.CALLBACK_REQUESTED,
            next_step_at=next_step,
            **{
                "objections-0-category": "price",
                "objections-0-said": "Too expensive",
                "objections-0-response": "Showed ROI",
                "objections-0-overcome": "on",
                "objections-0-collateral_id": str(collateral.pk),
            },
        ),
    )

    assert response.status_code == 302
    call = Call.objects.get()
    assert (call.outcome, call.duration_seconds) == (CallOutcome.CALLBACK_REQUESTED, 180)
    note = ObjectionNote.objects.get()
    assert (note.category, note.overcome, note.collateral_id) == ("price", True, collateral.pk)
    assert FollowUp.objects.get().kind == "callback"
    page = client_for(rep).get(_page(assignment.lead_id)).content.decode()
    assert "Call: Callback requested" in page and "Objections: Price" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"duration_minutes": "-2"}, "cannot be negative"),
        ({"next_step_at": "2001-01-01T10:00"}, "cannot be in the past"),
        ({"outcome": ""}, "This field is required"),
        ({"objections-0-said": "Too dear"}, "Choose the objection"),
    ],
)
def test_a_bad_call_shows_the_error_next_to_the_field_and_writes_nothing(client_for, rep, overrides, message):
    assignment = assigned_lead(rep)

    response = client_for(rep).post(reverse("crm:lead-log-call", args=[assignment.lead_id]), _call_data(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Call.objects.exists() and not FollowUp.objects.exists()


def test_logging_a_call_on_another_reps_lead_is_not_found(client_for, rep, other_rep):
    assignment = assigned_lead(other_rep)
    response = client_for(rep).post(reverse("crm:lead-log-call", args=[assignment.lead_id]), _call_data())
    assert response.status_code == 404
    assert not Call.objects.exists()


def test_accepting_from_the_lead_page(client_for, rep):
    assignment = assigned_lead(rep)
    response = client_for(rep).post(reverse("crm:lead-accept", args=[assignment.lead_id]))
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ACCEPTED
    assert Lead.objects.get(pk=assignment.lead_id).stage == LifecycleStage.SAL


def test_rejecting_needs_a_note_for_other_and_then_sends_the_lead_back(client_for, rep):
    assignment = assigned_lead(rep)
    url = reverse("crm:lead-reject", args=[assignment.lead_id])
    client = client_for(rep)

    response = client.post(url, {"reason": "other", "note": ""})
    assert response.status_code == 400 and "note" in response.content.decode().lower()

    response = client.post(url, {"reason": "not_a_fit", "note": "Student"})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.REJECTED
    assert Lead.objects.get(pk=assignment.lead_id).stage == LifecycleStage.RECYCLED


def test_converting_from_the_lead_page(client_for, rep):
    assignment = accepted_lead(rep)
    response = client_for(rep).post(
        reverse("crm:lead-convert", args=[assignment.lead_id]), {"amount": "2500", "name": "Pilot"}
    )
    assert response.status_code == 302
    assert Deal.objects.get().name == "Pilot"


def test_converting_a_lead_not_yet_accepted_shows_why(client_for, rep):
    assignment = assigned_lead(rep)
    response = client_for(rep).post(reverse("crm:lead-convert", args=[assignment.lead_id]), {"amount": "2500"})
    assert response.status_code == 400
    assert "Accept the lead" in response.content.decode()
    assert not Deal.objects.exists()


def test_sharing_suggested_collateral_from_the_lead_page(client_for, rep):
    assignment = assigned_lead(rep)
    collateral = CollateralFactory()
    response = client_for(rep).post(
        reverse("crm:lead-share", args=[assignment.lead_id]), {"collateral_id": collateral.pk}, follow=True
    )
    assert "/c/" in response.content.decode()
    assert collateral.shares.filter(lead_id=assignment.lead_id).exists()
