"""Rules the database itself enforces, whatever code writes the rows."""

import pytest
from django.db import IntegrityError, transaction

from campaigns.models import CampaignMember
from crm.models import AssignmentStatus, Deal, DealStage
from leads.models import Lead
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.crm.factories import AccountFactory, AssignmentFactory, DealFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_a_second_active_assignment_for_a_lead_is_refused_by_the_database():
    first = AssignmentFactory(status=AssignmentStatus.ASSIGNED)

    with pytest.raises(IntegrityError), transaction.atomic():
        AssignmentFactory(lead=first.lead, status=AssignmentStatus.QUEUED, rep=None)


def test_a_new_assignment_is_allowed_once_the_previous_one_ended():
    first = AssignmentFactory(status=AssignmentStatus.REJECTED, rejected_reason="not_a_fit")

    second = AssignmentFactory(lead=first.lead, status=AssignmentStatus.ASSIGNED)

    assert second.pk


def test_a_rejected_assignment_needs_a_reason():
    with pytest.raises(IntegrityError), transaction.atomic():
        AssignmentFactory(status=AssignmentStatus.REJECTED, rejected_reason="")


def test_lead_email_is_unique_whatever_its_case():
    LeadFactory(email="Ana@Example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(email="ana@example.COM")
    assert Lead.objects.count() == 1


def test_a_lead_is_a_member_of_a_campaign_once():
    member = CampaignMemberFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignMember.objects.create(campaign=member.campaign, lead=member.lead, added_at=member.added_at)


@pytest.mark.parametrize("field", ["budget", "actual_cost"])
def test_campaign_money_cannot_be_negative(field):
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(**{field: -1})


def test_deal_amount_cannot_be_negative():
    with pytest.raises(IntegrityError), transaction.atomic():
        DealFactory(amount=-5)


def test_a_lost_deal_needs_a_reason():
    deal = DealFactory()
    deal.stage, deal.closed_at = DealStage.LOST, deal.created_at

    with pytest.raises(IntegrityError), transaction.atomic():
        deal.save()
    assert Deal.objects.get(pk=deal.pk).stage == DealStage.QUALIFICATION


def test_two_accounts_cannot_share_a_domain_in_any_case():
    AccountFactory(domain="acme.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        AccountFactory(domain="ACME.com")


def test_an_unknown_lifecycle_stage_is_refused_by_the_database():
    lead = LeadFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(stage="promoted")
