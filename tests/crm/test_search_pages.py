"""The search page, the header suggestions and /api/search/: every role, bad input, queries."""

import pytest
from django.urls import reverse

from tests.crm.factories import AccountFactory, ContactFactory, DealFactory
from tests.crm.sales_fixtures import assigned_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def vera(rep):
    return assigned_lead(rep, first_name="Vera", last_name="Teixeira", company="Northwind").lead


def test_every_page_has_the_search_box_for_every_role(client_for, rep, marketer, manager):
    for user in (rep, marketer, manager):
        body = client_for(user).get(reverse("crm:search")).content.decode()
        assert 'id="site-search-q"' in body and 'role="combobox"' in body


def test_anonymous_is_sent_to_log_in(client):
    for name in ("crm:search", "crm:search-suggest"):
        response = client.get(reverse(name), {"q": "vera"})
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_anonymous_api_is_refused(api_client):
    assert api_client.get("/api/search/", {"q": "vera"}).status_code in (401, 403)


def test_the_page_groups_a_reps_results(client_for, rep, vera):
    AccountFactory(name="Teixeira Holdings", owner=rep)
    body = client_for(rep).get(reverse("crm:search"), {"q": "teixeira"}).content.decode()
    assert "Vera Teixeira" in body and "Teixeira Holdings" in body
    assert 'id="results-leads"' in body and 'id="results-accounts"' in body
    assert "No contacts match" in body


def test_another_rep_finds_nothing_of_it(client_for, other_rep, vera):
    body = client_for(other_rep).get(reverse("crm:search"), {"q": "teixeira"}).content.decode()
    assert "Vera Teixeira" not in body


def test_marketing_sees_the_lead_group_only(client_for, marketer, vera):
    body = client_for(marketer).get(reverse("crm:search"), {"q": "teixeira"}).content.decode()
    assert "Vera Teixeira" in body
    assert 'id="results-accounts"' not in body


def test_the_suggestions_are_options_for_the_combobox(client_for, manager, vera):
    body = client_for(manager).get(reverse("crm:search-suggest"), {"q": "teixeira"}).content.decode()
    assert 'role="listbox"' in body and 'role="option"' in body
    assert reverse("crm:lead-detail", args=[vera.pk]) in body


def test_no_match_says_so(client_for, rep, vera):
    body = client_for(rep).get(reverse("crm:search-suggest"), {"q": "qqqqzzzz"}).content.decode()
    assert "Nothing matches" in body


def test_a_too_long_query_is_a_field_error(client_for, api_for, rep):
    response = client_for(rep).get(reverse("crm:search"), {"q": "x" * 101})
    assert response.status_code == 400 and "Search (q): at most 100 characters." in response.content.decode()
    api = api_for(rep).get("/api/search/", {"q": "x" * 101})
    assert api.status_code == 400 and "q" in str(api.json())


def test_a_nul_byte_is_refused(client_for, api_for, rep):
    assert client_for(rep).get(reverse("crm:search"), {"q": "ve\x00ra"}).status_code == 400
    assert api_for(rep).get("/api/search/", {"q": "ve\x00ra"}).status_code == 400


def test_the_api_requires_q(api_for, rep):
    response = api_for(rep).get("/api/search/")
    assert response.status_code == 400 and "q" in str(response.json())


def test_the_api_returns_groups_under_the_row_rules(api_for, rep, other_rep, manager, marketer, vera):
    def kinds(user):
        data = api_for(user).get("/api/search/", {"q": "teixeira"}).json()
        return {g["kind"]: [r["title"] for r in g["results"]] for g in data["groups"]}

    assert kinds(rep)["leads"] == ["Vera Teixeira"]
    assert kinds(other_rep)["leads"] == []
    assert kinds(manager)["leads"] == ["Vera Teixeira"]
    assert kinds(marketer) == {"leads": ["Vera Teixeira"]}


@pytest.mark.parametrize("size", [1, 8])
def test_the_suggestions_cost_a_bounded_number_of_queries(client_for, rep, django_assert_max_num_queries, size):
    account = AccountFactory(name="Acme", owner=rep)
    for i in range(size):
        assigned_lead(rep, last_name=f"Acme{i}")
        ContactFactory(account=account, last_name=f"Acme{i}")
        DealFactory(account=account, owner=rep, name=f"Acme {i}")
    client = client_for(rep)
    # session, user, groups, then leads (up to 3, see lead_search), contacts, accounts, deals
    with django_assert_max_num_queries(9):
        client.get(reverse("crm:search-suggest"), {"q": "acme"})
