"""Accounts and contacts written through the API, with the row rules of every role."""

import pytest

from crm.models import Account, Contact
from tests.crm.factories import AccountFactory, ContactFactory, DealFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def fields(response) -> dict:
    return response.json()["error"]["fields"]


def test_a_rep_creates_an_account_that_is_theirs(api_for, rep):
    response = api_for(rep).post(
        "/api/accounts/", {"name": "Acme", "domain": "HTTPS://Acme.example/", "country": "de"}, format="json"
    )

    assert response.status_code == 201, response.json()
    account = Account.objects.get()
    assert (account.owner, account.domain, account.country) == (rep, "acme.example", "DE")
    assert response.json()["owner"] == rep.username


def test_a_rep_cannot_give_an_account_to_someone_else(api_for, rep, other_rep):
    response = api_for(rep).post("/api/accounts/", {"name": "Acme", "owner": other_rep.pk}, format="json")

    assert response.status_code == 400 and "owner" in fields(response)
    assert not Account.objects.exists()


def test_a_manager_creates_an_account_for_a_rep_and_reassigns_it(api_for, manager, rep, other_rep):
    api = api_for(manager)
    created = api.post("/api/accounts/", {"name": "Acme", "owner": rep.pk}, format="json")
    moved = api.patch(f"/api/accounts/{created.json()['id']}/", {"owner": other_rep.pk}, format="json")

    assert created.status_code == 201 and moved.status_code == 200
    assert Account.objects.get().owner == other_rep


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "A", "domain": "not a domain"}, "domain"),
        ({"name": "A", "country": "Germany"}, "country"),
        ({"name": "A", "employees": -1}, "employees"),
        ({"name": "A", "owner": 10**30}, "owner"),
        ({"name": "A", "next_check_in_on": "tomorrow"}, "next_check_in_on"),
    ],
)
def test_bad_account_input_is_a_400_naming_the_field(api_for, rep, body, field):
    response = api_for(rep).post("/api/accounts/", body, format="json")

    assert response.status_code == 400 and field in fields(response)


def test_a_taken_domain_in_any_case_is_a_400_naming_the_domain(api_for, rep):
    AccountFactory(domain="acme.example")

    response = api_for(rep).post("/api/accounts/", {"name": "Acme 2", "domain": "ACME.example"}, format="json")

    assert response.status_code == 400 and "domain" in fields(response)


def test_a_rep_changes_their_own_account(api_for, rep):
    account = AccountFactory(owner=rep)

    response = api_for(rep).patch(f"/api/accounts/{account.pk}/", {"is_customer": True}, format="json")

    assert response.status_code == 200 and response.json()["is_customer"] is True


def test_another_reps_account_is_a_404(api_for, rep, other_rep):
    account = AccountFactory(owner=other_rep, name="Theirs")

    response = api_for(rep).patch(f"/api/accounts/{account.pk}/", {"name": "Mine"}, format="json")

    assert response.status_code == 404
    account.refresh_from_db()
    assert account.name == "Theirs"


def test_an_account_seen_through_a_deal_is_read_only_to_the_rep(api_for, rep, other_rep):
    account = AccountFactory(owner=other_rep, name="Theirs")
    DealFactory(account=account, owner=rep)

    assert api_for(rep).get(f"/api/accounts/{account.pk}/").status_code == 200
    response = api_for(rep).patch(f"/api/accounts/{account.pk}/", {"name": "Mine"}, format="json")

    assert response.status_code == 403


@pytest.mark.parametrize("method", ["post", "patch"])
def test_marketing_and_anonymous_cannot_write_accounts(api_for, api_client, marketer, method):
    account = AccountFactory()
    url = "/api/accounts/" if method == "post" else f"/api/accounts/{account.pk}/"

    assert getattr(api_for(marketer), method)(url, {"name": "X"}, format="json").status_code == 403
    assert getattr(api_client, method)(url, {"name": "X"}, format="json").status_code == 401


def test_a_put_on_an_account_is_not_offered(api_for, manager):
    account = AccountFactory()

    assert api_for(manager).put(f"/api/accounts/{account.pk}/", {"name": "X"}, format="json").status_code == 405


# --- contacts ------------------------------------------------------------------------------------


def test_a_rep_adds_a_contact_to_their_account_linked_to_their_lead(api_for, rep):
    account = AccountFactory(owner=rep)
    lead = LeadFactory(owner=rep)

    response = api_for(rep).post(
        "/api/contacts/",
        {"account": account.pk, "lead": lead.pk, "first_name": "Ada", "email": "ada@acme.example"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    contact = Contact.objects.get()
    assert (contact.account, contact.lead, contact.first_name) == (account, lead, "Ada")


def test_a_contact_on_another_reps_account_or_lead_is_refused(api_for, rep, other_rep):
    theirs = AccountFactory(owner=other_rep)
    mine = AccountFactory(owner=rep)
    their_lead = LeadFactory(owner=other_rep)
    api = api_for(rep)

    on_their_account = api.post("/api/contacts/", {"account": theirs.pk, "first_name": "A"}, format="json")
    with_their_lead = api.post(
        "/api/contacts/", {"account": mine.pk, "lead": their_lead.pk, "first_name": "A"}, format="json"
    )

    assert on_their_account.status_code == 400 and "account" in fields(on_their_account)
    assert with_their_lead.status_code == 400 and "lead" in fields(with_their_lead)
    assert not Contact.objects.exists()


def test_a_lead_is_the_contact_of_one_contact_only(api_for, rep):
    account = AccountFactory(owner=rep)
    lead = LeadFactory(owner=rep)
    ContactFactory(account=account, lead=lead)

    response = api_for(rep).post(
        "/api/contacts/", {"account": account.pk, "lead": lead.pk, "first_name": "B"}, format="json"
    )

    assert response.status_code == 400 and "lead" in fields(response)


def test_a_contact_needs_a_name_or_email(api_for, rep):
    account = AccountFactory(owner=rep)

    response = api_for(rep).post("/api/contacts/", {"account": account.pk, "title": "CTO"}, format="json")

    assert response.status_code == 400 and "first_name" in fields(response)


def test_a_rep_changes_a_contact_of_their_account_not_of_another(api_for, rep, other_rep):
    mine = ContactFactory(account=AccountFactory(owner=rep))
    theirs = ContactFactory(account=AccountFactory(owner=other_rep), title="CEO")
    api = api_for(rep)

    ok = api.patch(f"/api/contacts/{mine.pk}/", {"title": "CFO"}, format="json")
    hidden = api.patch(f"/api/contacts/{theirs.pk}/", {"title": "Intern"}, format="json")

    assert ok.status_code == 200 and ok.json()["title"] == "CFO"
    assert hidden.status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "CEO"


def test_a_rep_cannot_move_a_contact_to_another_reps_account(api_for, rep, other_rep):
    contact = ContactFactory(account=AccountFactory(owner=rep))
    theirs = AccountFactory(owner=other_rep)

    response = api_for(rep).patch(f"/api/contacts/{contact.pk}/", {"account": theirs.pk}, format="json")

    assert response.status_code == 400 and "account" in fields(response)


def test_a_manager_writes_any_contact_and_marketing_none(api_for, manager, marketer, rep):
    contact = ContactFactory(account=AccountFactory(owner=rep))

    assert api_for(manager).patch(f"/api/contacts/{contact.pk}/", {"phone": "+1 555"}, format="json").status_code == 200
    assert (
        api_for(marketer).patch(f"/api/contacts/{contact.pk}/", {"phone": "+1 556"}, format="json").status_code == 403
    )


def test_a_bad_contact_email_is_a_400_naming_it(api_for, rep):
    account = AccountFactory(owner=rep)

    response = api_for(rep).post("/api/contacts/", {"account": account.pk, "email": "nope"}, format="json")

    assert response.status_code == 400 and "email" in fields(response)
