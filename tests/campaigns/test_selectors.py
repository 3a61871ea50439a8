import datetime

import pytest
from django.utils import timezone

from campaigns.models import Collateral
from campaigns.selectors import collateral_stale, lead_outcome_deals
from leads.models import LifecycleStage
from tests.campaigns.factories import CollateralFactory, CollateralShareFactory
from tests.leads.factories import LeadFactory, LeadTransitionFactory

pytestmark = pytest.mark.django_db


def aged(item, days: int):
    Collateral.objects.filter(pk=item.pk).update(created_at=timezone.now() - datetime.timedelta(days=days))
    return item


def test_stale_items_are_expired_or_old_and_not_shared_in_the_window(marketer, settings):
    settings.COLLATERAL_STALE_DAYS = 90
    now = timezone.now()
    expired = CollateralFactory(title="Expired", expires_on=timezone.localdate() - datetime.timedelta(days=1))
    never_shared = aged(CollateralFactory(title="Never shared"), 120)
    shared_long_ago = aged(CollateralFactory(title="Shared long ago"), 200)
    CollateralShareFactory(collateral=shared_long_ago, shared_at=now - datetime.timedelta(days=100))
    recently_shared = aged(CollateralFactory(title="Recently shared"), 200)
    CollateralShareFactory(collateral=recently_shared, shared_at=now - datetime.timedelta(days=10))
    aged(CollateralFactory(title="New, not shared yet"), 5)
    aged(CollateralFactory(title="Archived", is_archived=True), 300)

    stale = {item.title for item in collateral_stale(user=marketer)}

    assert stale == {expired.title, never_shared.title, shared_long_ago.title}


def test_lead_outcomes_are_won_and_lost_transitions_only():
    lead = LeadFactory()
    won = LeadTransitionFactory(
        lead=lead, from_stage=LifecycleStage.OPPORTUNITY, to_stage=LifecycleStage.CUSTOMER, reason="won"
    )
    lost = LeadTransitionFactory(
        lead=lead, from_stage=LifecycleStage.OPPORTUNITY, to_stage=LifecycleStage.RECYCLED, reason="lost:price"
    )
    LeadTransitionFactory(
        lead=lead, from_stage=LifecycleStage.HANDED_OFF, to_stage=LifecycleStage.RECYCLED, reason="rejected:not_a_fit"
    )

    outcomes = {d.deal_id: d.won for d in lead_outcome_deals()}

    assert outcomes == {won.pk: True, lost.pk: False}
