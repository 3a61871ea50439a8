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


# --- The action bar -----------------------------------------------------------------------------


def _act(client, account, action, **fields):
    data = {f"{action}-{k}": v for k, v in fields.items()}
    return client.post(reverse("crm:account-action", args=[account.pk, action]), data)


def test_a_rep_logs_a_call_with_a_contact_from_the_account_page(client_for, rep, account):
    from crm.models import Call

    contact = account.contacts.get()
    response = _act(client_for(rep), account, "call", contact=contact.pk, outcome="connected", duration_minutes="5")
    assert response.status_code == 302
    call = Call.objects.filter(contact=contact).latest("id")
    assert (call.rep, call.duration_seconds) == (rep, 300)


def test_a_rep_adds_a_contact_with_validation(client_for, rep, account):
    client = client_for(rep)
    bad = _act(client, account, "contact", first_name="Ana", email="not-an-email")
    assert bad.status_code == 400 and "Enter a valid email address." in bad.content.decode()
    assert _act(client, account, "contact", first_name="Ana", last_name="Lima").status_code == 302
    assert account.contacts.filter(first_name="Ana", last_name="Lima").exists()


def test_a_rep_schedules_a_check_in(client_for, rep, account):
    assert _act(client_for(rep), account, "checkin", next_check_in_on="2027-03-01").status_code == 302
    account.refresh_from_db()
    assert str(account.next_check_in_on) == "2027-03-01"


def test_a_rep_opens_a_deal_and_a_bad_amount_names_the_field(client_for, rep, account):
    client = client_for(rep)
    bad = _act(client, account, "deal", name="Expansion", amount="-5", currency="EUR")
    assert bad.status_code == 400 and "amount" in bad.content.decode().lower()
    assert _act(client, account, "deal", name="Expansion", amount="2500", currency="eur").status_code == 302
    deal = account.deals.get(name="Expansion")
    assert (deal.owner, deal.stage, deal.currency, str(deal.amount)) == (rep, "qualification", "EUR", "2500.00")


def test_feedback_is_entered_for_a_customer_contact(client_for, rep, account):
    from campaigns.models import CustomerFeedback
    from leads.models import LifecycleStage

    contact = account.contacts.get()
    type(contact.lead).objects.filter(pk=contact.lead_id).update(stage=LifecycleStage.CUSTOMER)
    client = client_for(rep)
    bad = _act(client, account, "feedback", contact=contact.pk, rating="11")
    assert bad.status_code == 400
    assert _act(client, account, "feedback", contact=contact.pk, rating="7", comment="Fine").status_code == 302
    assert CustomerFeedback.objects.filter(lead_id=contact.lead_id, rating=7, comment="Fine").exists()


def test_a_rep_edits_the_account_and_a_bad_domain_names_the_field(client_for, rep, account):
    client = client_for(rep)
    bad = _act(client, account, "edit", name="Northwind", domain="not a domain")
    assert bad.status_code == 400 and "is not a web domain" in bad.content.decode()
    assert _act(client, account, "edit", name="Northwind Ltd", domain="northwind.example").status_code == 302
    account.refresh_from_db()
    assert (account.name, account.domain, account.owner) == ("Northwind Ltd", "northwind.example", rep)


def test_a_rep_cannot_reassign_but_a_manager_can(client_for, rep, other_rep, manager, account):
    _act(client_for(rep), account, "edit", name="Northwind", owner=other_rep.pk)
    account.refresh_from_db()
    assert account.owner == rep
    assert _act(client_for(manager), account, "edit", name="Northwind", owner=other_rep.pk).status_code == 302
    account.refresh_from_db()
    assert account.owner == other_rep


def test_another_rep_cannot_act_on_the_account(client_for, other_rep, account):
    client = client_for(other_rep)
    for action, fields in (("contact", {"first_name": "X"}), ("checkin", {"next_check_in_on": "2027-01-01"})):
        assert _act(client, account, action, **fields).status_code == 404
    assert not account.contacts.filter(first_name="X").exists()


def test_marketing_and_anonymous_cannot_act(client, client_for, marketer, account):
    assert _act(client, account, "contact", first_name="X").status_code == 302
    assert _act(client_for(marketer), account, "contact", first_name="X").status_code == 403


def test_an_unknown_action_is_a_404(client_for, rep, account):
    assert client_for(rep).post(f"/accounts/{account.pk}/explode/").status_code == 404


def test_a_contact_is_edited_with_validation(client_for, rep, other_rep, account):
    contact = account.contacts.get()
    url = reverse("crm:contact-edit", args=[contact.pk])
    client = client_for(rep)
    bad = client.post(url, {"contact-first_name": "Vera", "contact-email": "bad"})
    assert bad.status_code == 400 and "Enter a valid email address." in bad.content.decode()
    assert (
        client.post(url, {"contact-first_name": "Vera", "contact-last_name": "T.", "contact-phone": "1"}).status_code
        == 302
    )
    contact.refresh_from_db()
    assert contact.last_name == "T."
    assert client_for(other_rep).post(url, {"contact-first_name": "Z"}).status_code == 404
