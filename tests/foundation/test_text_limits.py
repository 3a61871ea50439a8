"""Issue 21 item 3: free text has a limit on every path (pages, API, import); over it is a 400
with a field error naming the field and the limit, never a 500, and nothing is cut short."""

import io

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Collateral
from config.text_limits import NOTE_MAX_LENGTH
from crm.models import Assignment, AssignmentStatus, Call, Deal, DealStage
from crm.services.deals import deal_convert
from leads.imports import leads_import
from leads.models import Lead, LifecycleStage, Segment
from tests.campaigns.factories import CampaignFactory
from tests.crm.sales_fixtures import accepted_lead, assigned_lead
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db

TOO_LONG = "x" * (NOTE_MAX_LENGTH + 1)
LIMIT_MESSAGE = f"At most 5,000 characters; this has {NOTE_MAX_LENGTH + 1:,}."


def _fields(response) -> dict:
    assert response.status_code == 400, response.content[:300]
    return response.json()["error"]["fields"]


def _call_form(**overrides):
    data = {
        "outcome": "connected",
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
    return {**data, **overrides}


# --- pages -------------------------------------------------------------------------------------


def test_the_call_form_refuses_long_notes_on_the_notes_field(client_for, rep):
    lead_id = assigned_lead(rep).lead_id
    response = client_for(rep).post(reverse("crm:lead-log-call", args=[lead_id]), _call_form(notes=TOO_LONG))
    assert response.status_code == 400
    assert response.context["call_form"].errors["notes"] == [LIMIT_MESSAGE]
    assert not Call.objects.exists()


def test_the_call_form_refuses_a_long_objection_on_its_field(client_for, rep):
    lead_id = assigned_lead(rep).lead_id
    response = client_for(rep).post(
        reverse("crm:lead-log-call", args=[lead_id]),
        _call_form(**{"objections-0-category": "price", "objections-0-said": TOO_LONG}),
    )
    assert response.status_code == 400
    assert response.context["objection_formset"].forms[0].errors["said"] == [LIMIT_MESSAGE]
    assert not Call.objects.exists()


def test_a_note_of_exactly_the_limit_is_kept_whole(client_for, rep):
    lead_id = assigned_lead(rep).lead_id
    note = "y" * NOTE_MAX_LENGTH
    response = client_for(rep).post(reverse("crm:lead-log-call", args=[lead_id]), _call_form(notes=note))
    assert response.status_code == 302
    assert Call.objects.get().notes == note


def test_the_reject_form_refuses_a_long_note(client_for, rep):
    assignment = assigned_lead(rep)
    response = client_for(rep).post(
        reverse("crm:lead-reject", args=[assignment.lead_id]), {"reason": "other", "note": TOO_LONG}
    )
    assert response.status_code == 400
    assert response.context["reject_form"].errors["note"] == [LIMIT_MESSAGE]
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.ASSIGNED


def test_the_close_form_refuses_a_long_lost_note(client_for, rep):
    deal = deal_convert(lead_id=accepted_lead(rep).lead_id, actor=rep, amount=1)
    response = client_for(rep).post(
        reverse("crm:deal-close", args=[deal.pk]), {"result": "lost", "lost_reason": "other", "lost_note": TOO_LONG}
    )
    assert response.status_code in (200, 400)
    assert LIMIT_MESSAGE in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).stage != DealStage.LOST


def test_the_campaign_form_names_a_long_goal_and_a_long_name(client_for, marketer):
    client = client_for(marketer)
    url = reverse("campaigns:campaign-create")
    goal = client.post(
        url,
        {"name": "Fine", "kind": "webinar", "status": "planned", "budget": "0", "actual_cost": "0", "goal": TOO_LONG},
    )
    name = client.post(
        url, {"name": "n" * 201, "kind": "webinar", "status": "planned", "budget": "0", "actual_cost": "0"}
    )
    assert goal.context["form"].errors["goal"] == [LIMIT_MESSAGE]
    assert "at most 200 characters" in name.context["form"].errors["name"][0]
    assert not Campaign.objects.exists()


def test_a_long_campaign_name_is_an_error_not_cut_short(marketer):
    from django.core.exceptions import ValidationError

    from campaigns.services.campaigns import campaign_create

    with pytest.raises(ValidationError) as error:
        campaign_create(actor=marketer, name="n" * 201, kind="webinar")
    assert error.value.message_dict == {"name": ["At most 200 characters; this has 201."]}
    with pytest.raises(ValidationError) as error:
        campaign_create(actor=marketer, name="Fine", kind="webinar", goal=TOO_LONG)
    assert error.value.message_dict == {"goal": [LIMIT_MESSAGE]}
    assert not Campaign.objects.exists()


def test_a_long_collateral_title_is_an_error_not_cut_short(marketer):
    from django.core.exceptions import ValidationError

    from campaigns.services.collateral import collateral_create

    with pytest.raises(ValidationError) as error:
        collateral_create(actor=marketer, title="t" * 201, kind="case_study", url="https://example.com/x")
    assert error.value.message_dict == {"title": ["At most 200 characters; this has 201."]}
    assert not Collateral.objects.exists()


def test_a_long_consent_note_is_refused_and_nothing_recorded(client_for, rep):
    from leads.models import ConsentRecord

    lead = assigned_lead(rep).lead
    response = client_for(rep).post(
        reverse("leads:consent-withdraw", args=[lead.pk]), {"purpose": "calls", "note": "n" * 2001}, follow=True
    )
    assert "Note: At most 2,000 characters; this has 2,001. Nothing was recorded." in response.content.decode()
    assert not ConsentRecord.objects.filter(lead=lead).exists()


# --- API ---------------------------------------------------------------------------------------


def test_the_calls_api_names_long_notes_and_objections(api_for, rep):
    lead_id = assigned_lead(rep).lead_id
    response = api_for(rep).post(
        "/api/calls/",
        {
            "lead": lead_id,
            "outcome": "connected",
            "notes": TOO_LONG,
            "objections": [{"category": "price", "said": "ok", "response": TOO_LONG}],
        },
        format="json",
    )
    fields = _fields(response)
    assert set(fields) == {"notes", "objections.0.response"}
    assert "5000" in fields["notes"][0]
    assert not Call.objects.exists()


def test_the_service_check_names_the_field_when_a_caller_skips_the_serializer(rep):
    from django.core.exceptions import ValidationError

    from crm.services.calls import call_log

    lead_id = assigned_lead(rep).lead_id
    with pytest.raises(ValidationError) as error:
        call_log(
            rep=rep,
            lead_id=lead_id,
            outcome="connected",
            notes=TOO_LONG,
            objections=[{"category": "price", "said": TOO_LONG}],
        )
    assert error.value.message_dict == {"notes": [LIMIT_MESSAGE], "objections.0.said": [LIMIT_MESSAGE]}


def test_the_reject_api_names_a_long_note(api_for, rep):
    assignment = assigned_lead(rep)
    response = api_for(rep).post(
        f"/api/assignments/{assignment.pk}/reject/", {"reason": "other", "note": TOO_LONG}, format="json"
    )
    assert "5000" in _fields(response)["note"][0]
    assert Lead.objects.get(pk=assignment.lead_id).stage == LifecycleStage.HANDED_OFF


def test_the_deal_close_api_names_a_long_lost_note(api_for, rep):
    deal = deal_convert(lead_id=accepted_lead(rep).lead_id, actor=rep, amount=1)
    response = api_for(rep).post(
        f"/api/deals/{deal.pk}/close/", {"won": False, "lost_reason": "other", "lost_note": TOO_LONG}, format="json"
    )
    assert "5000" in _fields(response)["lost_note"][0]


def test_the_segment_api_names_a_long_description(api_for, marketer):
    definition = {"field": "industry", "op": "eq", "value": "software"}
    response = api_for(marketer).post(
        "/api/segments/", {"name": "S", "definition": definition, "description": TOO_LONG}, format="json"
    )
    assert "5000" in _fields(response)["description"][0]
    assert not Segment.objects.exists()


def test_the_campaign_api_names_a_long_goal_and_name(api_for, marketer):
    response = api_for(marketer).post(
        "/api/campaigns/", {"name": "n" * 201, "kind": "webinar", "goal": TOO_LONG}, format="json"
    )
    fields = _fields(response)
    assert "goal" in fields or "name" in fields
    assert not Campaign.objects.exists()
    campaign = CampaignFactory()
    response = api_for(marketer).patch(f"/api/campaigns/{campaign.pk}/", {"goal": TOO_LONG}, format="json")
    assert "5000" in _fields(response)["goal"][0]


def test_the_feedback_api_names_a_long_comment(api_for, rep):
    customer = LeadFactory(stage=LifecycleStage.CUSTOMER, owner=rep)
    response = api_for(rep).post(
        "/api/customer-feedback/", {"lead": customer.pk, "rating": 9, "comment": TOO_LONG}, format="json"
    )
    assert "comment" in _fields(response)


# --- import ------------------------------------------------------------------------------------


def test_an_import_row_over_a_field_limit_is_a_row_error_naming_column_and_limit():
    text = (
        "email,first_name,company,attr.notes\n"
        f"long@x.example,Ana,{'c' * 201},fine\n"
        f"attr@x.example,Bo,Beta,{'a' * 2001}\n"
        "ok@x.example,Cy,Gamma,fine\n"
    )
    report = leads_import(stream=io.BytesIO(text.encode()), dry_run=False)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (2, "company", "longer than 200 characters"),
        (3, "attr.notes", "longer than 2000 characters"),
    ]
    assert list(Lead.objects.values_list("email", flat=True)) == ["ok@x.example"]
