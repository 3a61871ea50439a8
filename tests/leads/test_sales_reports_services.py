"""The leads services sales calls through leads.api validate and write in one transaction."""

import pytest
from django.core.exceptions import ValidationError

from leads.api import lead_handed_off, lead_owner_set
from leads.models import Lead, LeadTransition, LifecycleStage
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db
S = LifecycleStage


def test_moving_the_owner_of_a_lead_marketing_holds_is_refused_naming_the_lead(rep):
    lead = LeadFactory(stage=S.MQL)

    with pytest.raises(ValidationError) as refused:
        lead_owner_set(lead_id=lead.pk, owner=rep)

    assert "lead_id" in refused.value.message_dict
    assert Lead.objects.get(pk=lead.pk).owner is None


def test_the_owner_of_a_lead_with_sales_moves(rep, other_rep):
    lead = LeadFactory(stage=S.SAL, owner=rep)

    lead_owner_set(lead_id=lead.pk, owner=other_rep)

    assert Lead.objects.get(pk=lead.pk).owner == other_rep


def test_a_refused_hand_off_sets_no_owner(rep):
    lead = LeadFactory(stage=S.NEW)

    with pytest.raises(ValidationError):
        lead_handed_off(lead_id=lead.pk, owner=rep)

    assert Lead.objects.get(pk=lead.pk).owner is None
    assert not LeadTransition.objects.filter(lead=lead).exists()
