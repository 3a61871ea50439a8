import pytest
from django.urls import reverse

from campaigns.models import CampaignMember
from tests.campaigns.factories import CampaignFactory, CollateralFactory, CollateralVersionFactory
from tests.leads.factories import LeadFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def test_the_admin_action_adds_the_target_segments_leads(client_for, marketer):
    segment = SegmentFactory(definition={"field": "industry", "op": "eq", "value": "software"})
    campaign = CampaignFactory(target_segment=segment)
    LeadFactory.create_batch(2, industry="software")

    client_for(marketer).post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "add_target_segment_members", "_selected_action": [campaign.pk]},
    )

    assert CampaignMember.objects.filter(campaign=campaign).count() == 2


def test_versions_cannot_be_added_in_the_admin_bypassing_validation(client_for, marketer):
    response = client_for(marketer).get(reverse("admin:campaigns_collateralversion_add"))

    assert response.status_code == 403


def test_the_admin_refuses_a_javascript_url(client_for, marketer):
    item = CollateralFactory()

    response = client_for(marketer).post(
        reverse("admin:campaigns_collateral_change", args=[item.pk]),
        {
            "title": "X",
            "kind": "brochure",
            "url": "javascript:alert(1)",
            "industries": "[]",
            "products": "[]",
            "objection_categories": "[]",
        },
    )

    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors


def test_the_current_version_can_only_be_one_of_the_items_own(client_for, marketer):
    item = CollateralFactory(url="")
    mine = CollateralVersionFactory(collateral=item)
    CollateralVersionFactory()

    response = client_for(marketer).get(reverse("admin:campaigns_collateral_change", args=[item.pk]))

    choices = list(response.context["adminform"].form.fields["current_version"].queryset)
    assert choices == [mine]
