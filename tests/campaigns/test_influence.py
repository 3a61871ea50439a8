import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.api import campaign_influence, collateral_deal_usage
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory, CollateralShareFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(datetime.datetime(2026, 3, 1, 12, 0))


def day(n: int) -> datetime.datetime:
    return T0 + datetime.timedelta(days=n)


@pytest.fixture
def history():
    """A lead touched by three campaigns on days 1, 5 and 20; a deal closes on day 10."""
    lead = LeadFactory()
    first, middle, late = CampaignFactory(name="First"), CampaignFactory(name="Middle"), CampaignFactory(name="Late")
    CampaignMemberFactory(campaign=middle, lead=lead, added_at=day(5))
    CampaignMemberFactory(campaign=first, lead=lead, added_at=day(1))
    CampaignMemberFactory(campaign=late, lead=lead, added_at=day(20))
    return lead, first, middle, late


def test_first_touch_credits_the_earliest_campaign_before_the_close(history):
    lead, first, middle, late = history

    result = campaign_influence(model="first", deals=[(7, lead.pk, day(10), Decimal("900"))])

    assert [(c.campaign_id, c.weight, c.amount) for c in result.by_deal[7]] == [(first.pk, 1.0, Decimal("900"))]
    assert set(result.by_campaign) == {first.pk}


def test_last_touch_ignores_memberships_after_the_close(history):
    lead, first, middle, late = history

    result = campaign_influence(model="last", deals=[(7, lead.pk, day(10), Decimal("900"))])

    assert [c.campaign_id for c in result.by_deal[7]] == [middle.pk]


def test_even_split_shares_weight_and_amount_exactly(history):
    lead, first, middle, late = history
    third = CampaignFactory()
    CampaignMemberFactory(campaign=third, lead=lead, added_at=day(7))

    result = campaign_influence(
        model="even", deals=[{"id": 7, "lead_id": lead.pk, "closed_at": day(10), "amount": 100}]
    )

    credits = result.by_deal[7]
    assert [c.campaign_id for c in credits] == [first.pk, middle.pk, third.pk]
    assert [c.amount for c in credits] == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert sum(c.weight for c in credits) == pytest.approx(1.0)
    assert result.by_campaign[middle.pk].weight == pytest.approx(1 / 3)


def test_credit_adds_up_per_campaign_over_deals(history):
    lead, first, middle, late = history
    other = LeadFactory()
    CampaignMemberFactory(campaign=first, lead=other, added_at=day(2))

    result = campaign_influence(
        model="first", deals=[(1, lead.pk, day(10), Decimal("100")), (2, other.pk, day(3), Decimal("50"))]
    )

    assert result.by_campaign[first.pk].deals == 2
    assert result.by_campaign[first.pk].amount == Decimal("150")


def test_a_deal_with_no_touches_gets_a_defined_empty_result(history):
    lead, *_ = history
    untouched = LeadFactory()

    result = campaign_influence(
        model="even",
        deals=[(1, untouched.pk, day(10), Decimal("10")), (2, None, day(10), Decimal("5")), (3, lead.pk, day(0), 1)],
    )

    assert result.by_deal == {1: [], 2: [], 3: []}
    assert result.untouched_deal_ids == [1, 2, 3]
    assert result.by_campaign == {}


def test_an_open_deal_counts_touches_until_now(history):
    lead, first, middle, late = history

    result = campaign_influence(model="last", deals=[(1, lead.pk, None, 0)], now=day(30))

    assert [c.campaign_id for c in result.by_deal[1]] == [late.pk]


def test_no_deals_gives_an_empty_result_without_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        result = campaign_influence(model="first", deals=[])

    assert (result.by_deal, result.by_campaign) == ({}, {})


def test_query_count_is_constant_in_the_number_of_deals(django_assert_num_queries):
    deals = []
    for n in range(30):
        lead = LeadFactory()
        CampaignMemberFactory(lead=lead, added_at=day(0))
        deals.append((n, lead.pk, day(1), 10))

    with django_assert_num_queries(1):
        result = campaign_influence(model="even", deals=deals)

    assert len(result.by_campaign) == 30


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"model": "linear", "deals": []}, "model"),
        ({"model": "first", "deals": [(1, 2)]}, "deals.0"),
        ({"model": "first", "deals": [(1, 2, "yesterday", 5)]}, "deals.0.closed_at"),
        ({"model": "first", "deals": [(1, 2, None, "lots")]}, "deals.0.amount"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(ValidationError) as error:
        campaign_influence(**kwargs)

    assert field in error.value.message_dict


def test_collateral_usage_counts_deals_shared_before_the_close_and_compares_win_rates():
    used_won, used_lost, unused_won, late = LeadFactory.create_batch(4)
    share = CollateralShareFactory(lead=used_won, shared_at=day(1))
    item = share.collateral
    CollateralShareFactory(collateral=item, lead=used_lost, shared_at=day(1))
    CollateralShareFactory(collateral=item, lead=late, shared_at=day(20))

    usage = collateral_deal_usage(
        deals=[
            (1, used_won.pk, day(10), 100, True),
            (2, used_lost.pk, day(10), 100, False),
            (3, unused_won.pk, day(10), 100, True),
            (4, late.pk, day(10), 100, False),
            (5, used_won.pk, None, 100, None),
        ],
        collateral_ids=[item.pk, 999],
    )

    entry = usage[item.pk]
    assert (entry.deals_influenced, entry.won, entry.lost) == (2, 1, 1)
    assert entry.win_rate_used == 0.5
    assert entry.win_rate_not_used == 0.5
    assert usage[999].deals_influenced == 0 and usage[999].win_rate_used is None
