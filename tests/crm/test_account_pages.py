"""The account and contact pages: what they show, who may open them, what they cost."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import DealStage, FollowUpKind
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory, CustomerFeedbackFactory
from tests.crm.factories import (
    AccountFactory,
    CallFactory,
    ContactFactory,
    DealFactory,
    FollowUpFactory,
    ObjectionNoteFactory,
)
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(rep):
    account = AccountFactory(name="Northwind Traders", owner=rep, next_check_in_on=datetime.date(2027, 1, 15))
    lead = LeadFactory(owner=rep)
    contact = ContactFactory(account=account, first_name="Vera", last_name="Teixeira", lead=lead, phone="+351 21 555")
    DealFactory(account=account, owner=rep, contact=contact, name="Pilot", amount="116204.00")
    DealFactory(
        account=account, owner=rep, name="Renewal 2025", amount="5000", stage=DealStage.WON, closed_at=timezone.now()
    )
    call = CallFactory(rep=rep, lead=None, contact=contact, notes="Asked about the price list")
    ObjectionNoteFactory(call=call, lead=None, said="Too expensive this year")
    campaign = CampaignFactory(name="Spring webinar")
    CampaignMemberFactory(campaign=campaign, lead=lead)
    CustomerFeedbackFactory(lead=lead, rating=9, comment="Great onboarding")
    FollowUpFactory(rep=rep, lead=None, contact=contact, kind=FollowUpKind.CHECK_IN)
    return account


def test_the_account_page_shows_the_whole_relationship(client_for, rep, account):
    body = client_for(rep).get(reverse("crm:account-detail", args=[account.pk])).content.decode()
    for text in (
        "Northwind Traders",
        "Vera Teixeira",
        "Pilot",
        "€116,204.00",
        "Renewal 2025",
        "Closed won",
        "Asked about the price list",
        "Too expensive this year",
        "Spring webinar",
        "9/10",
        "Great onboarding",
        "Friday 15 Jan 2027",
    ):
        assert text in body, text


def test_the_contact_page_shows_their_calls_deals_and_feedback(client_for, rep, account):
    contact = account.contacts.get()
    body = client_for(rep).get(reverse("crm:contact-detail", args=[contact.pk])).content.decode()
    for text in ("Vera Teixeira", "Northwind Traders", "Pilot", "Asked about the price list", "Great onboarding"):
        assert text in body, text
    assert "Renewal 2025" not in body  # a deal of the account, not this contact's


def test_another_rep_gets_a_404(client_for, other_rep, account):
    client = client_for(other_rep)
    assert client.get(reverse("crm:account-detail", args=[account.pk])).status_code == 404
    assert client.get(reverse("crm:contact-detail", args=[account.contacts.get().pk])).status_code == 404
    assert "Northwind Traders" not in client.get(reverse("crm:account-list")).content.decode()


def test_a_manager_opens_any_account(client_for, manager, account):
    client = client_for(manager)
    assert client.get(reverse("crm:account-detail", args=[account.pk])).status_code == 200
    assert "Northwind Traders" in client.get(reverse("crm:account-list")).content.decode()


def test_marketing_is_refused(client_for, marketer, account):
    client = client_for(marketer)
    assert client.get(reverse("crm:account-detail", args=[account.pk])).status_code == 403
    assert client.get(reverse("crm:account-list")).status_code == 403


def test_anonymous_is_sent_to_log_in(client, account):
    response = client.get(reverse("crm:account-detail", args=[account.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_unknown_account_is_a_404(client_for, manager):
    assert client_for(manager).get("/accounts/99999999999999999999/").status_code == 404


def test_the_list_says_when_there_are_no_accounts(client_for, rep):
    assert "No accounts yet" in client_for(rep).get(reverse("crm:account-list")).content.decode()


@pytest.mark.parametrize("size", [1, 6])
def test_the_account_page_costs_a_constant_number_of_queries(client_for, rep, django_assert_num_queries, size):
    account = AccountFactory(owner=rep)
    for _ in range(size):
        lead = LeadFactory(owner=rep)
        contact = ContactFactory(account=account, lead=lead)
        DealFactory(account=account, owner=rep, contact=contact)
        ObjectionNoteFactory(call=CallFactory(rep=rep, lead=None, contact=contact), lead=None)
        CampaignMemberFactory(lead=lead)
        CustomerFeedbackFactory(lead=lead)
        FollowUpFactory(rep=rep, lead=None, contact=contact, kind=FollowUpKind.CHECK_IN)
    client = client_for(rep)
    # session, user, groups, account, contacts, deals, calls, objections, memberships,
    # feedback, feedback average, check-ins
    with django_assert_num_queries(12):
        client.get(reverse("crm:account-detail", args=[account.pk]))


@pytest.mark.parametrize("size", [1, 6])
def test_the_account_list_costs_a_constant_number_of_queries(client_for, rep, django_assert_num_queries, size):
    for _ in range(size):
        ContactFactory(account=AccountFactory(owner=rep))
    client = client_for(rep)
    # session, user, groups, count, page
    with django_assert_num_queries(5):
        client.get(reverse("crm:account-list"))
