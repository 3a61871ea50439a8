"""The admin cannot go around the services: no admin form edits a lifecycle field (a stage or
a status) directly, and the state changes it offers go through the services, which record the
move (deal stage history, lead transitions, segment and rule-set versions)."""

import json

import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from campaigns.models import Campaign
from crm.models import Assignment, AssignmentStatus, Deal, DealStage, DealStageChange
from crm.services.deals import deal_convert
from leads.models import Lead, LeadOutcome, LeadTransition, LifecycleStage, RuleSetVersion, ScoringPolicy, Segment
from leads.segment_services import segment_update
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.crm.sales_fixtures import accepted_lead, assigned_lead
from tests.leads.factories import LeadFactory, ScoringRuleFactory, SegmentFactory
from tests.sent_tasks import task_sends

pytestmark = pytest.mark.django_db
S = LifecycleStage

# Lifecycle fields the admin edits because saving goes through the model's service (shown
# by a test below that the service's own rule applies).
THROUGH_A_SERVICE = {("campaigns.campaign", "status")}


def lifecycle_fields(model) -> set[str]:
    """A row's place in its lifecycle: ``stage`` / ``status`` / ``*_status`` with choices (not
    history rows' from/to, which are read-only, nor a classification like ``funnel_stage``)."""
    return {
        f.name
        for f in model._meta.fields
        if f.choices and (f.name in ("stage", "status") or f.name.endswith("_status"))
    }


def editable_fields(model_admin, request) -> set[str]:
    obj = model_admin.model()
    names = set()
    if model_admin.has_change_permission(request) or model_admin.has_add_permission(request):
        names |= set(model_admin.get_form(request, obj).base_fields)
    for inline in model_admin.get_inline_instances(request, obj):
        if inline.has_change_permission(request, obj) or inline.has_add_permission(request, obj):
            names |= {
                f"{inline.model._meta.label_lower}.{n}" for n in inline.get_formset(request, obj).form.base_fields
            }
    return names


@pytest.mark.parametrize("role", ["manager", "marketer"])
def test_no_admin_form_edits_a_lifecycle_field_directly(role, request):
    user = request.getfixturevalue(role)
    http = RequestFactory().get("/admin/")
    http.user = user
    offending = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in {"leads", "campaigns", "crm", "learning", "reports"}:
            continue
        editable = editable_fields(model_admin, http)
        for name in lifecycle_fields(model):
            if name in editable and (model._meta.label_lower, name) not in THROUGH_A_SERVICE:
                offending.append(f"{model._meta.label}.{name}")
        for inline in model_admin.inlines:
            for name in lifecycle_fields(inline.model):
                if f"{inline.model._meta.label_lower}.{name}" in editable:
                    offending.append(f"{model._meta.label} inline {inline.model._meta.label}.{name}")
    assert offending == []


def form_data(response) -> dict:
    """What the browser would post back for the change form in ``response``, unchanged."""
    data: dict = {}
    all_forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        all_forms.extend(inline.formset.forms)
    for form in all_forms:
        for name, field in form.fields.items():
            bound = form[name]
            value = bound.value()
            if isinstance(field.widget, forms.MultiWidget):
                for i, part in enumerate(field.widget.decompress(value)):
                    data[f"{bound.html_name}_{i}"] = "" if part is None else str(part)
            elif isinstance(field.widget, forms.CheckboxInput):
                if value:
                    data[bound.html_name] = "on"
            elif value is None:
                data[bound.html_name] = ""
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(v) for v in value]
            else:
                data[bound.html_name] = str(value)
    return data


def post_change(client, obj, **changes):
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, {**form_data(page), **changes})


@pytest.fixture
def open_deal(rep):
    assignment = accepted_lead(rep)
    return deal_convert(lead_id=assignment.lead_id, actor=rep, amount="1000")


# --- deals --------------------------------------------------------------------------------------


def test_a_deal_stage_posted_to_the_admin_changes_nothing(client_for, manager, open_deal):
    response = post_change(client_for(manager), open_deal, stage=DealStage.WON, name="Renamed")

    assert response.status_code == 302
    deal = Deal.objects.get(pk=open_deal.pk)
    assert (deal.name, deal.stage, deal.closed_at) == ("Renamed", DealStage.QUALIFICATION, None)
    assert DealStageChange.objects.filter(deal=deal).count() == 1  # the conversion's
    assert Lead.objects.get(pk=deal.lead_id).stage == S.OPPORTUNITY


def test_closing_a_deal_won_in_the_admin_goes_through_the_service(client_for, manager, open_deal):
    response = post_change(client_for(manager), open_deal, close_as="won")

    assert response.status_code == 302
    deal = Deal.objects.get(pk=open_deal.pk)
    assert deal.stage == DealStage.WON and deal.closed_at is not None
    assert DealStageChange.objects.filter(deal=deal, to_stage=DealStage.WON, actor=manager).exists()
    transition = LeadTransition.objects.filter(lead_id=deal.lead_id).latest("at", "id")
    assert (transition.to_stage, transition.outcome, transition.actor) == (S.CUSTOMER, LeadOutcome.WON, manager)
    assert Lead.objects.get(pk=deal.lead_id).stage == S.CUSTOMER
    assert not Assignment.objects.filter(lead_id=deal.lead_id, status=AssignmentStatus.ACCEPTED).exists()


def test_closing_a_deal_lost_in_the_admin_tells_marketing_the_reason(client_for, manager, open_deal):
    response = post_change(client_for(manager), open_deal, close_as="lost", close_lost_reason="price")

    assert response.status_code == 302
    assert Deal.objects.get(pk=open_deal.pk).stage == DealStage.LOST
    transition = LeadTransition.objects.filter(lead_id=open_deal.lead_id).latest("at", "id")
    assert (transition.outcome, transition.outcome_reason) == (LeadOutcome.LOST, "price")


def test_closing_lost_without_a_reason_is_refused_naming_the_field(client_for, manager, open_deal):
    response = post_change(client_for(manager), open_deal, close_as="lost")

    assert response.status_code == 200
    assert "close_lost_reason" in response.context["adminform"].form.errors
    assert Deal.objects.get(pk=open_deal.pk).stage == DealStage.QUALIFICATION


def test_moving_a_deal_in_the_admin_records_the_move(client_for, manager, open_deal):
    response = post_change(client_for(manager), open_deal, move_to=DealStage.PROPOSAL)

    assert response.status_code == 302
    assert Deal.objects.get(pk=open_deal.pk).stage == DealStage.PROPOSAL
    assert DealStageChange.objects.filter(deal=open_deal, to_stage=DealStage.PROPOSAL, actor=manager).exists()


def test_a_closed_deal_cannot_be_closed_again_in_the_admin(client_for, manager, open_deal):
    client = client_for(manager)
    post_change(client, open_deal, close_as="won")

    response = post_change(client, Deal.objects.get(pk=open_deal.pk), close_as="lost", close_lost_reason="price")

    assert response.status_code == 200
    assert "close_as" in response.context["adminform"].form.errors
    assert Deal.objects.get(pk=open_deal.pk).stage == DealStage.WON


def test_deals_are_not_added_in_the_admin(client_for, manager):
    assert client_for(manager).get(reverse("admin:crm_deal_add")).status_code == 403


# --- assignments --------------------------------------------------------------------------------


def test_an_assignment_status_posted_to_the_admin_changes_nothing(client_for, manager, rep):
    assignment = assigned_lead(rep)

    response = post_change(client_for(manager), assignment, status=AssignmentStatus.REJECTED, rep="")

    assert response.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.status, assignment.rep) == (AssignmentStatus.ASSIGNED, rep)
    assert Lead.objects.get(pk=assignment.lead_id).stage == S.HANDED_OFF


def test_reassigning_in_the_admin_goes_through_the_service(client_for, manager, rep, other_rep):
    assignment = assigned_lead(rep)

    response = post_change(client_for(manager), assignment, reassign_to=str(other_rep.pk))

    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.REASSIGNED
    new = Assignment.objects.get(previous=assignment)
    assert (new.rep, new.status) == (other_rep, AssignmentStatus.ASSIGNED)


def test_a_closed_assignment_cannot_be_reassigned_in_the_admin(client_for, manager, rep, other_rep):
    assignment = assigned_lead(rep)
    Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.CLOSED)

    response = post_change(client_for(manager), assignment, reassign_to=str(other_rep.pk))

    assert response.status_code == 200
    assert "reassign_to" in response.context["adminform"].form.errors
    assert not Assignment.objects.filter(previous=assignment).exists()


# --- leads and marketing ------------------------------------------------------------------------


def test_a_lead_stage_posted_to_the_admin_changes_nothing(client_for, marketer):
    lead = LeadFactory(stage=S.MQL)

    response = post_change(client_for(marketer), lead, stage=S.CUSTOMER)

    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).stage == S.MQL
    assert not LeadTransition.objects.filter(lead=lead).exists()


@pytest.mark.parametrize("who", ["marketer", "superuser"])
def test_a_lead_owner_posted_to_the_admin_changes_nothing(client_for, marketer, rep, other_rep, who, django_user_model):
    assignment = assigned_lead(rep)
    user = marketer if who == "marketer" else django_user_model.objects.create_superuser("boss", "b@x.example", "pw")
    client = client_for(user)
    page = client.get(reverse("admin:leads_lead_change", args=[assignment.lead_id]))
    assert "owner" not in page.context["adminform"].form.fields

    response = post_change(client, assignment.lead, owner=str(other_rep.pk))

    assert response.status_code == 302
    assert Lead.objects.get(pk=assignment.lead_id).owner == rep
    assert Assignment.objects.get(pk=assignment.pk).rep == rep


def test_a_segment_changed_in_the_admin_gets_a_new_version(client_for, marketer):
    segment = SegmentFactory()
    definition = {"all": [{"field": "industry", "op": "eq", "value": "retail"}]}

    response = post_change(client_for(marketer), segment, definition=json.dumps(definition))

    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.definition, segment.version) == (definition, 2)
    assert segment.versions.filter(version=2, created_by=marketer).exists()


def test_a_segment_definition_the_builder_cannot_read_is_refused_naming_the_field(client_for, marketer):
    segment = SegmentFactory()

    response = post_change(client_for(marketer), segment, definition=json.dumps({"all": [{"field": "shoe_size"}]}))

    assert response.status_code == 200
    assert "definition" in response.context["adminform"].form.errors
    assert Segment.objects.get(pk=segment.pk).version == 1


def test_a_campaign_saved_in_the_admin_keeps_the_services_rules(client_for, marketer):
    member = CampaignMemberFactory()
    campaign = member.campaign
    other_kind = next(k for k, _ in Campaign._meta.get_field("kind").choices if k != campaign.kind)

    refused = post_change(client_for(marketer), campaign, kind=other_kind)
    saved = post_change(client_for(marketer), campaign, status="active")

    assert refused.status_code == 200
    assert "kind" in refused.context["adminform"].form.errors
    assert saved.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).status == "active"


def test_campaign_members_are_not_added_in_the_admin(client_for, marketer):
    CampaignFactory()
    assert client_for(marketer).get(reverse("admin:campaigns_campaignmember_add")).status_code == 403


# --- scoring: saved through the rule-set versions, which re-score; no receivers ----------------


def test_a_rule_changed_in_the_admin_is_a_new_rule_set_version(
    client_for, marketer, django_capture_on_commit_callbacks
):
    rule = ScoringRuleFactory(field="industry", operator="eq", value="software", points=5)

    with (
        task_sends("leads.tasks.rule_set_rescore_task") as sent,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post_change(client_for(marketer), rule, points="9")

    assert response.status_code == 302
    version = RuleSetVersion.objects.order_by("-number").first()
    assert version.created_by == marketer
    assert [r["points"] for r in version.rules] == [9]
    sent.assert_called_once_with(version.pk)


def test_the_policy_changed_in_the_admin_is_a_new_rule_set_version(client_for, marketer):
    policy = ScoringPolicy.current()

    response = post_change(client_for(marketer), policy, threshold="65")

    assert response.status_code == 302
    assert ScoringPolicy.current().threshold == 65
    assert RuleSetVersion.objects.order_by("-number").first().policy["threshold"] == 65


def test_saving_rows_directly_starts_no_rescore(django_capture_on_commit_callbacks):
    with (
        task_sends("leads.tasks.leads_rescore_all_task") as sent,
        django_capture_on_commit_callbacks(execute=True),
    ):
        ScoringRuleFactory()
        ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": 70})
    sent.assert_not_called()


def test_a_new_definition_of_a_segment_fit_rules_score_on_rescores_every_lead(
    marketer, django_capture_on_commit_callbacks
):
    scored_on, unused = SegmentFactory(), SegmentFactory()
    ScoringRuleFactory(segment=scored_on, field="", operator="", value=None, points=10)
    definition = {"all": [{"field": "country", "op": "eq", "value": "FR"}]}

    with (
        task_sends("leads.tasks.leads_rescore_all_task") as sent,
        django_capture_on_commit_callbacks(execute=True),
    ):
        segment_update(segment_id=unused.pk, actor=marketer, definition=definition)
        assert sent.call_count == 0
        segment_update(segment_id=scored_on.pk, actor=marketer, definition=definition)
    sent.assert_called_once_with()
