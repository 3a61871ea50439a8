"""Every registered model's admin changelist loads, with a query count that does not grow
with the number of rows."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports.services import funnel_rollup_refresh
from tests.campaigns.factories import (
    CampaignMemberFactory,
    CollateralFactory,
    CollateralVersionFactory,
    CollateralViewFactory,
    CustomerFeedbackFactory,
)
from tests.crm.factories import (
    AssignmentFactory,
    CallFactory,
    ContactFactory,
    DealStageChangeFactory,
    EmailOutboxFactory,
    FollowUpFactory,
    NotificationFactory,
    ObjectionNoteFactory,
    QueueMembershipFactory,
    SlaBreachFactory,
)
from tests.leads.factories import (
    EngagementEventFactory,
    LeadTransitionFactory,
    ScoringPolicyFactory,
    ScoringRuleFactory,
    SegmentVersionFactory,
)

pytestmark = pytest.mark.django_db

OUR_APPS = {"leads", "campaigns", "crm", "learning", "reports", "privacy"}


def our_models():
    return sorted((m for m in admin.site._registry if m._meta.app_label in OUR_APPS), key=lambda m: m._meta.label)


def make_rows(count: int) -> None:
    for _ in range(count):
        LeadTransitionFactory()
        EngagementEventFactory(lead=EngagementEventFactory().lead)  # a second event: LatestEngagement rows
        SegmentVersionFactory()
        ScoringRuleFactory()
        CampaignMemberFactory()
        CollateralVersionFactory()
        CollateralViewFactory()
        CustomerFeedbackFactory()
        QueueMembershipFactory()
        SlaBreachFactory()
        NotificationFactory()
        EmailOutboxFactory()
        ContactFactory()
        ObjectionNoteFactory()
        FollowUpFactory()
        DealStageChangeFactory()
        AssignmentFactory()
        CallFactory()
        CollateralFactory()
    ScoringPolicyFactory()
    funnel_rollup_refresh()


def changelist_queries(client, model) -> int:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def test_every_model_of_ours_is_registered_in_the_admin():
    from django.apps import apps

    registered = set(admin.site._registry)
    missing = [m._meta.label for app in OUR_APPS for m in apps.get_app_config(app).get_models() if m not in registered]
    assert missing == []


def test_admin_changelists_load_with_a_constant_number_of_queries(admin_client):
    make_rows(1)
    few = {m._meta.label: changelist_queries(admin_client, m) for m in our_models()}

    make_rows(6)
    many = {m._meta.label: changelist_queries(admin_client, m) for m in our_models()}

    assert many == few


def test_admin_change_form_of_a_lead_opens(admin_client):
    assignment = AssignmentFactory()

    response = admin_client.get(reverse("admin:leads_lead_change", args=[assignment.lead_id]))

    assert response.status_code == 200
    assert assignment.lead.email in response.content.decode()
