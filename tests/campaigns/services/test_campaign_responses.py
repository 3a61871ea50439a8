import pytest
from django.core.exceptions import ValidationError

from campaigns.models import CampaignKind, CampaignStatus, MemberStatus
from campaigns.services.campaigns import campaign_response_record
from leads.models import EngagementEvent, EngagementKind
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.leads.factories import LeadFactory
from tests.leads.latest_events import assert_columns_match_events, stored_columns

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "event_kind"),
    [
        (CampaignKind.WEBINAR, EngagementKind.WEBINAR),
        (CampaignKind.EMAIL, EngagementKind.EMAIL_CLICK),
        (CampaignKind.EVENT, EngagementKind.EVENT_ATTENDED),
        (CampaignKind.LOYALTY, EngagementKind.CAMPAIGN_RESPONSE),
    ],
)
def test_a_response_records_the_campaigns_engagement_event_and_marks_the_member(marketer, kind, event_kind):
    member = CampaignMemberFactory(campaign=CampaignFactory(kind=kind))

    campaign_response_record(campaign_id=member.campaign_id, lead_id=member.lead_id, actor=marketer)

    member.refresh_from_db()
    assert member.status == MemberStatus.RESPONDED
    assert member.responded_at is not None
    event = EngagementEvent.objects.get(lead_id=member.lead_id)
    assert event.kind == event_kind
    assert event.source_reference == f"campaign:{member.campaign_id}"


def test_a_response_moves_the_leads_latest_event_column_that_segments_read(marketer):
    member = CampaignMemberFactory(campaign=CampaignFactory(kind=CampaignKind.WEBINAR))

    campaign_response_record(campaign_id=member.campaign_id, lead_id=member.lead_id, actor=marketer)

    event = EngagementEvent.objects.get(lead_id=member.lead_id)
    assert stored_columns(member.lead_id)["last_webinar_at"] == event.occurred_at
    assert_columns_match_events(member.lead_id)


def test_the_same_response_twice_is_one_event(marketer):
    member = CampaignMemberFactory()

    campaign_response_record(campaign_id=member.campaign_id, lead_id=member.lead_id, actor=marketer)
    campaign_response_record(campaign_id=member.campaign_id, lead_id=member.lead_id, actor=marketer)

    assert EngagementEvent.objects.filter(lead_id=member.lead_id).count() == 1


def test_distinct_references_are_distinct_responses(marketer):
    member = CampaignMemberFactory(campaign=CampaignFactory(kind=CampaignKind.EMAIL))

    campaign_response_record(campaign_id=member.campaign_id, lead_id=member.lead_id, actor=marketer, reference="mail-1")
    campaign_response_record(campaign_id=member.campaign_id, lead_id=member.lead_id, actor=marketer, reference="mail-2")

    assert EngagementEvent.objects.filter(lead_id=member.lead_id, kind=EngagementKind.EMAIL_CLICK).count() == 2


def test_a_converted_member_stays_converted(marketer):
    member = CampaignMemberFactory(status=MemberStatus.CONVERTED)

    campaign_response_record(campaign_id=member.campaign_id, lead_id=member.lead_id, actor=marketer)

    member.refresh_from_db()
    assert member.status == MemberStatus.CONVERTED


def test_a_response_from_a_non_member_is_an_error_unless_added(marketer):
    campaign = CampaignFactory(kind=CampaignKind.EVENT)
    walk_in = LeadFactory()

    with pytest.raises(ValidationError) as error:
        campaign_response_record(campaign_id=campaign.pk, lead_id=walk_in.pk, actor=marketer)
    member = campaign_response_record(campaign_id=campaign.pk, lead_id=walk_in.pk, actor=marketer, add_if_missing=True)

    assert "not a member" in error.value.message_dict["lead_id"][0]
    assert member.status == MemberStatus.RESPONDED


def test_a_cancelled_campaign_takes_no_responses(marketer):
    member = CampaignMemberFactory(campaign=CampaignFactory(status=CampaignStatus.CANCELLED))

    with pytest.raises(ValidationError) as error:
        campaign_response_record(campaign_id=member.campaign_id, lead_id=member.lead_id, actor=marketer)

    assert "cancelled" in error.value.message_dict["campaign_id"][0]
    assert not EngagementEvent.objects.exists()
