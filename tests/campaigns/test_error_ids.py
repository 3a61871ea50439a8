"""Errors never repeat the internal id the caller sent."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.services.campaigns import campaign_members_add_from_segment, campaign_update
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db
MISSING = 987654


def test_adding_members_from_a_missing_segment_says_so_without_its_id(marketer):
    campaign = CampaignFactory()

    with pytest.raises(ValidationError) as error:
        campaign_members_add_from_segment(campaign_id=campaign.pk, actor=marketer, segment_id=MISSING)

    assert error.value.message_dict == {"segment_id": ["Segment not found."]}


def test_a_missing_campaign_is_not_named_by_its_id(marketer):
    with pytest.raises(ValidationError) as error:
        campaign_update(campaign_id=MISSING, actor=marketer, name="x")

    assert error.value.message_dict == {"campaign_id": ["Campaign not found."]}
