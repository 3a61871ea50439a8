"""Tracked views and campaign responses reach scoring: the engagement events they record
earn the points of the matching engagement rule, and a re-score is enqueued after commit."""

import pytest

from campaigns.models import CampaignKind
from campaigns.services.campaigns import campaign_response_record
from leads.api import lead_score
from leads.models import EngagementKind, RuleKind
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory, CollateralShareFactory
from tests.leads.factories import ScoringPolicyFactory, ScoringRuleFactory
from tests.sent_tasks import task_sends

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules():
    ScoringPolicyFactory()
    for kind in (EngagementKind.COLLATERAL_VIEW, EngagementKind.WEBINAR):
        ScoringRuleFactory(
            kind=RuleKind.ENGAGEMENT,
            field="",
            operator="",
            value=None,
            points=0,
            event_kind=kind,
            points_per_event=10,
            cap=50,
        )


def test_a_tracked_view_raises_the_leads_engagement_score(client, rules, django_capture_on_commit_callbacks):
    share = CollateralShareFactory()
    before = lead_score(lead_id=share.lead_id).engagement_score

    with (
        task_sends("leads.tasks.score_lead_task") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.get(f"/c/{share.token}/")

    enqueue.assert_called_once_with(share.lead_id)
    assert lead_score(lead_id=share.lead_id).engagement_score > before


def test_a_webinar_response_raises_the_leads_engagement_score(marketer, rules, django_capture_on_commit_callbacks):
    member = CampaignMemberFactory(campaign=CampaignFactory(kind=CampaignKind.WEBINAR))
    before = lead_score(lead_id=member.lead_id).engagement_score

    with (
        task_sends("leads.tasks.score_lead_task") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        campaign_response_record(campaign_id=member.campaign_id, lead_id=member.lead_id, actor=marketer)

    enqueue.assert_called_once_with(member.lead_id)
    assert lead_score(lead_id=member.lead_id).engagement_score > before
