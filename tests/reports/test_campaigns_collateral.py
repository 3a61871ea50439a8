"""Campaign and collateral report numbers against hand-made histories."""

import datetime

import pytest

from crm.models import DealStage
from leads.models import LifecycleStage
from tests.campaigns.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    CollateralFactory,
    CollateralShareFactory,
    CollateralViewFactory,
)
from tests.crm.factories import DealFactory
from tests.leads.factories import LeadFactory, LeadTransitionFactory
from tests.reports.conftest import rows_by, run

DAY = datetime.timedelta(days=1)


@pytest.fixture
def campaign_history(monday):
    m = monday
    a = CampaignFactory(name="Spring webinar", actual_cost=1000)
    b = CampaignFactory(name="Trade fair", actual_cost=500)
    lead1, lead2, lead3 = LeadFactory(), LeadFactory(), LeadFactory()
    CampaignMemberFactory(campaign=a, lead=lead1, added_at=m - DAY)
    CampaignMemberFactory(campaign=b, lead=lead1, added_at=m + DAY)
    CampaignMemberFactory(campaign=a, lead=lead2, added_at=m, responded_at=m + DAY, status="responded")
    CampaignMemberFactory(campaign=b, lead=lead3, added_at=m + 10 * DAY)
    LeadTransitionFactory(lead=lead1, from_stage=LifecycleStage.ENGAGED, to_stage=LifecycleStage.MQL, at=m + 2 * DAY)
    DealFactory(lead=lead1, stage=DealStage.WON, amount=3000, created_at=m + 3 * DAY, closed_at=m + 5 * DAY)
    DealFactory(lead=lead2, amount=700, created_at=m + 2 * DAY)
    # won before the lead ever met a campaign: no credit
    DealFactory(lead=lead3, stage=DealStage.WON, amount=2000, created_at=m + 4 * DAY, closed_at=m + 6 * DAY)


@pytest.mark.django_db
def test_campaign_funnel_counts(campaign_history, period):
    rows = rows_by(run("campaigns", **period).table("campaigns"), "campaign")
    webinar, fair = rows["Spring webinar"], rows["Trade fair"]
    assert (webinar["members"], webinar["responses"], webinar["mqls"], webinar["deals"]) == (2, 1, 1, 2)
    assert (fair["members"], fair["responses"], fair["mqls"], fair["deals"]) == (2, 0, 1, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "webinar", "fair"),
    [("even", (1500, 0.5), (1500, 0.5)), ("first", (3000, 1), (0, 0)), ("last", (0, 0), (3000, 1))],
)
def test_won_revenue_follows_the_influence_model(campaign_history, period, model, webinar, fair):
    rows = rows_by(run("campaigns", **period, model=model).table("campaigns"), "campaign")
    assert (rows["Spring webinar"]["revenue"], rows["Spring webinar"]["won"]) == (pytest.approx(webinar[0]), webinar[1])
    assert (rows["Trade fair"]["revenue"], rows["Trade fair"]["won"]) == (pytest.approx(fair[0]), fair[1])


@pytest.mark.django_db
def test_cost_per_mql_per_won_deal_and_roi(campaign_history, period):
    webinar = rows_by(run("campaigns", **period, model="even").table("campaigns"), "campaign")["Spring webinar"]
    assert webinar["cost_per_mql"] == 1000
    assert webinar["cost_per_won"] == 2000
    assert webinar["roi"] == pytest.approx(0.5)


@pytest.fixture
def collateral_history(monday, rep):
    m = monday
    calculator = CollateralFactory(title="ROI calculator")
    CollateralFactory(title="Old brochure", is_archived=True)
    forgotten = CollateralFactory(title="Forgotten deck")
    won_lead, lost_lead = LeadFactory(), LeadFactory()
    share = CollateralShareFactory(collateral=calculator, lead=won_lead, shared_by=rep, shared_at=m)
    CollateralViewFactory(share=share, viewed_at=m)
    CollateralViewFactory(share=share, viewed_at=m + DAY)
    CollateralShareFactory(collateral=calculator, lead=lost_lead, shared_by=rep, shared_at=m + DAY)
    CollateralShareFactory(collateral=forgotten, lead=lost_lead, shared_by=rep, shared_at=m - 100 * DAY)
    DealFactory(lead=won_lead, stage=DealStage.WON, created_at=m, closed_at=m + 5 * DAY)
    DealFactory(lead=lost_lead, stage=DealStage.LOST, lost_reason="price", created_at=m, closed_at=m + 3 * DAY)
    # closed before the item was sent: not influenced
    DealFactory(lead=lost_lead, stage=DealStage.WON, created_at=m - 20 * DAY, closed_at=m - 10 * DAY)


@pytest.mark.django_db
def test_collateral_shares_views_deals_and_win_rate(collateral_history, period):
    rows = rows_by(run("collateral", **period).table("collateral"), "title")
    calc = rows["ROI calculator"]
    assert (calc["shares"], calc["views"], calc["leads_viewing"]) == (2, 2, 1)
    assert (calc["deals"], calc["won"], calc["win_rate"]) == (2, 1, 0.5)
    assert calc["status"] == "current"
    assert rows["Old brochure"]["status"] == "archived"
    assert rows["Forgotten deck"]["status"].startswith("stale")
    assert rows["Forgotten deck"]["shares"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["first", "last", "even"])
def test_the_sql_influence_agrees_with_campaigns_api(campaign_history, period, model):
    from campaigns.api import campaign_influence
    from crm.models import Deal

    rows = rows_by(run("campaigns", **period, model=model).table("campaigns"), "campaign")
    won = Deal.objects.filter(stage=DealStage.WON).values_list("id", "lead_id", "closed_at", "amount")
    expected = campaign_influence(model=model, deals=won).by_campaign
    from campaigns.models import Campaign

    for campaign in Campaign.objects.all():
        credit = expected.get(campaign.pk)
        row = rows[campaign.name]
        assert row["won"] == pytest.approx(credit.weight if credit else 0)
        assert row["revenue"] == pytest.approx(credit.amount if credit else 0)
