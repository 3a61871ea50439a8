"""Campaign influence exists twice, on purpose: ``campaigns.api.campaign_influence`` (Python,
one deal at a time, for the marketing pages and the API) and the campaigns report's one SQL
statement (window functions, for report scale). On random membership histories, ties on the
joining time included, both credit every campaign with the same won deals and revenue."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.api import campaign_influence
from campaigns.models import Campaign, CampaignMember
from crm.models import Deal, DealStage
from reports.selectors.campaigns import influence
from tests.campaigns.factories import CampaignFactory
from tests.crm.factories import DealFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
START, END = T0 + 10 * DAY, T0 + 40 * DAY

histories = st.lists(
    st.tuples(
        st.dictionaries(st.integers(0, 3), st.sampled_from([0, 5, 5, 12, 20, 30])),  # campaign -> day joined
        st.sampled_from([4, 5, 15, 25, 39, 45]),  # day the deal closed (some outside the period)
        st.sampled_from([DealStage.WON, DealStage.WON, DealStage.LOST]),
        st.decimals(min_value=0, max_value=50000, places=2),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories, model=st.sampled_from(["first", "last", "even"]))
def test_the_report_sql_and_campaigns_api_credit_the_same(history, model):
    Deal.objects.all().delete()
    CampaignMember.objects.all().delete()
    Campaign.objects.all().delete()
    campaigns = [CampaignFactory() for _ in range(4)]
    for joined, closed_day, stage, amount in history:
        lead = LeadFactory()
        for index, day in joined.items():
            CampaignMember.objects.create(campaign=campaigns[index], lead=lead, added_at=T0 + day * DAY)
        DealFactory(
            lead=lead,
            stage=stage,
            closed_at=T0 + closed_day * DAY,
            amount=amount,
            lost_reason="price" if stage == DealStage.LOST else "",
        )

    in_sql = influence(model=model, start=START, end=END)
    won = Deal.objects.filter(stage=DealStage.WON, closed_at__gte=START, closed_at__lt=END)
    in_python = campaign_influence(model=model, deals=won.values_list("id", "lead_id", "closed_at", "amount"))

    for campaign in campaigns:
        credit = in_python.by_campaign.get(campaign.pk)
        revenue, deals = in_sql.get(campaign.pk, (Decimal("0"), 0.0))
        assert deals == pytest.approx(credit.weight if credit else 0.0)
        assert float(revenue) == pytest.approx(float(credit.amount) if credit else 0.0, abs=0.02)
