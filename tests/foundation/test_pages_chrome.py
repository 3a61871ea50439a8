"""Issue 21 item 13: a plain 404 page (friendly in the demo), a favicon, and a menu per role."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def _nav(html: str) -> list[str]:
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r">([^<]+)</a>", nav)


def test_a_missing_page_is_the_plain_404_page_not_the_debug_page(client, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert "URLconf" not in html and "Traceback" not in html
    assert "password is <code>demo</code>" not in html


def test_in_the_demo_the_404_page_says_how_to_log_in(client, settings):
    settings.DEBUG = False
    settings.BATON_DEMO = True
    html = client.get("/no/such/page/").content.decode()
    assert "This is the Baton demo" in html and "rep1" in html


def test_a_rep_gets_the_plain_404_for_a_lead_that_is_not_theirs(client_for, rep, settings):
    settings.DEBUG = False
    response = client_for(rep).get("/calls/leads/987654/")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()


def test_pages_name_a_favicon_and_the_browser_default_address_finds_it(client):
    html = client.get("/accounts/login/").content.decode()
    assert re.search(r'<link rel="icon" href="[^"]*favicon\.svg"', html)
    assert finders.find("favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


def test_a_rep_sees_the_call_list_and_deals_but_not_segments_or_the_library(client_for, rep):
    menu = _nav(client_for(rep).get("/calls/").content.decode())
    assert "Call list" in menu and "Deals" in menu
    assert "Segments" not in menu and "Library" not in menu


def test_marketing_sees_its_own_pages_and_not_the_sales_ones(client_for, marketer):
    menu = _nav(client_for(marketer).get("/marketing/segments/").content.decode())
    assert {"Segments", "Campaigns", "Library", "Scoring rules"} <= set(menu)
    assert "Call list" not in menu and "Deals" not in menu


def test_a_manager_sees_the_sales_pages_and_the_admin(client_for, manager):
    menu = _nav(client_for(manager).get("/calls/").content.decode())
    assert {"Call list", "Deals", "Admin"} <= set(menu)
