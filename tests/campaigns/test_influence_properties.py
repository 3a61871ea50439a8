"""Influence invariants on random membership histories: for every touched deal, first and last
touch credit exactly one campaign with the whole amount; even split credits every touching
campaign with weights summing to 1 and amounts summing to the deal amount to the cent."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.api import campaign_influence
from campaigns.models import CampaignMember
from tests.campaigns.factories import CampaignFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(datetime.datetime(2026, 1, 1))

histories = st.lists(
    st.tuples(
        st.lists(st.tuples(st.integers(0, 4), st.integers(0, 60)), max_size=5),  # (campaign index, day added)
        st.integers(0, 60),  # day the deal closed
        st.decimals(min_value=0, max_value=100000, places=2),  # amount
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories=histories)
def test_credit_adds_up_under_every_model(histories):
    CampaignMember.objects.all().delete()
    campaigns = [CampaignFactory() for _ in range(5)]
    deals, expected_touches = [], {}
    for deal_id, (touches, closed_day, amount) in enumerate(histories):
        lead = LeadFactory()
        seen = {}
        for index, day in touches:
            if index in seen:
                continue  # one membership per campaign and lead
            seen[index] = day
            CampaignMember.objects.create(
                campaign=campaigns[index], lead=lead, added_at=T0 + datetime.timedelta(days=day)
            )
        deals.append((deal_id, lead.pk, T0 + datetime.timedelta(days=closed_day), amount))
        expected_touches[deal_id] = {campaigns[i].pk for i, day in seen.items() if day < closed_day}

    for model in ("first", "last", "even"):
        result = campaign_influence(model=model, deals=deals)
        for deal_id, _lead_id, _closed, amount in deals:
            credits = result.by_deal[deal_id]
            touched = expected_touches[deal_id]
            if not touched:
                assert credits == [] and deal_id in result.untouched_deal_ids
                continue
            assert {c.campaign_id for c in credits} <= touched
            assert sum(c.weight for c in credits) == pytest.approx(1.0)
            assert sum((c.amount for c in credits), Decimal("0")) == amount
            if model == "even":
                assert {c.campaign_id for c in credits} == touched
            else:
                assert len(credits) == 1
        total = sum((c.amount for c in result.by_campaign.values()), Decimal("0"))
        assert total == sum((amount for d, _l, _c, amount in deals if expected_touches[d]), Decimal("0"))
