"""The header search in a real browser: type, move with the arrow keys, open with Enter."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from config.roles import SALES_REP
from tests.crm.factories import AccountFactory
from tests.crm.sales_fixtures import assigned_lead
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _rep(username):
    group, _ = Group.objects.get_or_create(name=SALES_REP)
    user = UserFactory(username=username)
    user.groups.add(group)
    return user


def test_search_with_the_keyboard_opens_the_chosen_result(page, live_server, login, artifacts_dir):
    rep = _rep("searcher")
    vera = assigned_lead(rep, first_name="Vera", last_name="Teixeira", company="Northwind").lead
    account = AccountFactory(name="Teixeira Holdings", owner=rep)
    login("searcher")

    page.keyboard.press("/")
    box = page.get_by_role("combobox", name="Search leads, contacts, accounts and deals")
    expect(box).to_be_focused()
    box.press_sequentially("teixeira", delay=20)
    options = page.get_by_role("option")
    expect(options).to_have_count(2)
    expect(box).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=str(artifacts_dir / "search-suggestions.png"))

    box.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", f"search-opt-lead-{vera.pk}")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    box.press("Enter")
    page.wait_for_url(f"**/accounts/{account.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Teixeira Holdings")


def test_escape_closes_and_enter_without_a_choice_opens_the_results_page(page, live_server, login):
    rep = _rep("searcher2")
    assigned_lead(rep, first_name="Vera", last_name="Teixeira")
    login("searcher2")
    box = page.get_by_role("combobox", name="Search leads, contacts, accounts and deals")
    box.click()
    box.press_sequentially("teixeira", delay=20)
    expect(page.get_by_role("option")).to_have_count(1)
    box.press("Escape")
    expect(page.get_by_role("option")).to_have_count(0)
    box.press("Enter")
    page.wait_for_url("**/search/?q=teixeira")
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    expect(page.get_by_role("link", name="Vera Teixeira")).to_be_visible()
