"""The header search: what each role finds, how it matches, how many queries it costs."""

import pytest
from django.urls import reverse

from crm.search import search_for_user
from tests.crm.factories import AccountFactory, ContactFactory, DealFactory
from tests.crm.sales_fixtures import assigned_lead
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _titles(groups, kind):
    return [r.title for g in groups if g.kind == kind for r in g.results]


@pytest.fixture
def vera(rep):
    return assigned_lead(
        rep,
        first_name="Vera",
        last_name="Teixeira",
        email="vera.teixeira@northwind.example",
        phone="+351 (21) 555-0142",
        company="Northwind Traders",
        company_domain="northwind.example",
    ).lead


def test_a_rep_finds_their_lead_by_surname(rep, vera):
    assert _titles(search_for_user(user=rep, query="teixeira"), "leads") == ["Vera Teixeira"]


def test_a_rep_finds_their_lead_by_email_prefix(rep, vera):
    assert _titles(search_for_user(user=rep, query="vera.tei"), "leads") == ["Vera Teixeira"]


@pytest.mark.parametrize("fragment", ["5550142", "555-0142", "(21) 555", "21 555 01"])
def test_a_phone_fragment_matches_in_any_formatting(rep, vera, fragment):
    assert _titles(search_for_user(user=rep, query=fragment), "leads") == ["Vera Teixeira"]


def test_company_and_domain_match(rep, vera):
    assert _titles(search_for_user(user=rep, query="northwind trad"), "leads") == ["Vera Teixeira"]
    assert _titles(search_for_user(user=rep, query="northwind.example"), "leads") == ["Vera Teixeira"]


@pytest.mark.parametrize("typo", ["Teixiera", "Northwnd Traders", "Nortwind"])
def test_a_typo_still_finds_the_lead(rep, vera, typo):
    assert _titles(search_for_user(user=rep, query=typo), "leads") == ["Vera Teixeira"]


def test_an_unrelated_word_finds_nothing(rep, vera):
    assert _titles(search_for_user(user=rep, query="zzzyxw"), "leads") == []


def test_a_rep_never_finds_another_reps_lead(other_rep, vera):
    assert _titles(search_for_user(user=other_rep, query="teixeira"), "leads") == []


def test_marketing_finds_every_lead_and_no_sales_rows(marketer, vera):
    AccountFactory(name="Teixeira Holdings")
    groups = search_for_user(user=marketer, query="teixeira")
    assert [g.kind for g in groups] == ["leads"]
    assert _titles(groups, "leads") == ["Vera Teixeira"]


def test_a_manager_finds_every_reps_rows(manager, rep, other_rep, vera):
    account = AccountFactory(name="Teixeira Holdings", owner=other_rep)
    ContactFactory(account=account, first_name="Ana", last_name="Teixeira")
    DealFactory(account=account, owner=other_rep, name="Teixeira renewal")
    groups = search_for_user(user=manager, query="teixeira")
    assert _titles(groups, "leads") == ["Vera Teixeira"]
    assert _titles(groups, "contacts") == ["Ana Teixeira"]
    assert _titles(groups, "accounts") == ["Teixeira Holdings"]
    assert _titles(groups, "deals") == ["Teixeira renewal"]


def test_a_rep_finds_own_accounts_contacts_and_deals_only(rep, other_rep):
    mine = AccountFactory(name="Globex Iberia", owner=rep)
    ContactFactory(account=mine, first_name="Rui", last_name="Globo", phone="+351 91 234 5678")
    DealFactory(account=mine, owner=rep, name="Globex pilot")
    theirs = AccountFactory(name="Globex Nordics", owner=other_rep)
    ContactFactory(account=theirs, first_name="Lars", last_name="Globo")
    DealFactory(account=theirs, owner=other_rep, name="Globex expansion")

    groups = search_for_user(user=rep, query="globex")
    assert _titles(groups, "accounts") == ["Globex Iberia"]
    assert _titles(groups, "deals") == ["Globex pilot"]
    assert _titles(search_for_user(user=rep, query="globo"), "contacts") == ["Rui Globo"]
    assert _titles(search_for_user(user=rep, query="912345"), "contacts") == ["Rui Globo"]


def test_results_link_to_their_pages(rep, vera):
    account = AccountFactory(name="Teixeira Holdings", owner=rep)
    contact = ContactFactory(account=account, last_name="Teixeira")
    deal = DealFactory(account=account, owner=rep, name="Teixeira deal")
    urls = {r.kind: r.url for g in search_for_user(user=rep, query="teixeira") for r in g.results}
    assert urls == {
        "lead": reverse("crm:lead-detail", args=[vera.pk]),
        "contact": reverse("crm:contact-detail", args=[contact.pk]),
        "account": reverse("crm:account-detail", args=[account.pk]),
        "deal": reverse("crm:account-detail", args=[account.pk]) + f"#deal-{deal.pk}",
    }


def test_an_exact_match_ranks_above_a_fuzzy_one(rep):
    assigned_lead(rep, first_name="Ana", last_name="Silvera", company="X")
    assigned_lead(rep, first_name="Rita", last_name="Silva", company="Y")
    assert _titles(search_for_user(user=rep, query="silva"), "leads")[0] == "Rita Silva"


def test_each_group_is_capped(rep):
    for i in range(8):
        assigned_lead(rep, last_name=f"Moreira{i}")
    assert len(_titles(search_for_user(user=rep, query="moreira"), "leads")) == 5


@pytest.mark.parametrize("query", ["", " ", "a", None])
def test_a_query_too_short_finds_nothing(rep, vera, query):
    assert search_for_user(user=rep, query=query) == []


@pytest.mark.parametrize("size", [1, 6])
def test_a_search_costs_a_bounded_number_of_queries(rep, count_queries, size):
    account = AccountFactory(name="Acme", owner=rep)
    for i in range(size):
        assigned_lead(rep, last_name=f"Acme{i}", company="Acme")
        ContactFactory(account=account, last_name=f"Acme{i}")
        DealFactory(account=account, owner=rep, name=f"Acme deal {i}")
    rep.refresh_from_db()
    search_for_user(user=rep, query="zz")  # roles cached on the user
    # contacts, accounts, deals: one each; leads: one, plus (PostgreSQL, fewer hits than a
    # group holds) the spelling correction and the corrected search
    assert count_queries(lambda: search_for_user(user=rep, query="acme")) <= 6


def test_marketing_search_costs_at_most_three_queries(marketer, count_queries):
    LeadFactory(last_name="Acme")
    search_for_user(user=marketer, query="zz")
    assert count_queries(lambda: search_for_user(user=marketer, query="acme")) <= 3


def test_a_group_full_of_exact_hits_needs_no_correction(marketer, count_queries):
    for i in range(6):
        LeadFactory(last_name=f"Acme{i}")
    search_for_user(user=marketer, query="zz")
    assert count_queries(lambda: search_for_user(user=marketer, query="acme")) == 1


@pytest.mark.postgres
def test_new_and_renamed_leads_feed_the_spelling_vocabulary(rep):
    from leads.models import Lead, SearchWord

    lead = LeadFactory(first_name="Xiomara", last_name="Quintanilha", company="Zephyr Logistics")
    Lead.objects.filter(pk=lead.pk).update(last_name="Vasconcelos")
    words = set(SearchWord.objects.values_list("word", flat=True))
    assert {"xiomara", "quintanilha", "zephyr", "logistics", "vasconcelos"} <= words


@pytest.mark.postgres
def test_a_misspelt_multi_word_query_is_corrected_word_by_word(rep):
    assigned_lead(rep, first_name="Vera", last_name="Teixeira", company="Meridian Energy 18")
    assigned_lead(rep, first_name="Rui", last_name="Costa", company="Meridian Energy 17")
    assert _titles(search_for_user(user=rep, query="Meriddian Enrgy 18"), "leads") == ["Vera Teixeira"]
    assert _titles(search_for_user(user=rep, query="teixiera vera"), "leads") == ["Vera Teixeira"]
