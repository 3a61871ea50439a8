"""The manager's privacy flow in a real browser: find the person, read and download their data,
erase them after confirming the open deal."""

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from config.roles import SALES_MANAGER, SALES_REP
from leads.models import Lead
from privacy.models import ErasureAudit
from tests.factories import UserFactory
from tests.privacy.people import EMAIL, NAME, person_everywhere

pytestmark = pytest.mark.django_db(transaction=True)


def _user(username, role):
    group, _ = Group.objects.get_or_create(name=role)
    user = UserFactory(username=username)
    user.groups.add(group)
    return user


def test_a_manager_finds_exports_and_erases_a_person(page, live_server, login, artifacts_dir):
    rep = _user("privacy-rep", SALES_REP)
    _user("privacy-manager", SALES_MANAGER)
    lead = person_everywhere(rep, deal_stage="proposal")
    login("privacy-manager")

    page.get_by_text("More", exact=True).click()
    page.get_by_role("link", name="Privacy", exact=True).click()
    box = page.get_by_label("E-mail, name, phone or company")
    expect(box).to_be_focused()
    box.fill("quarrington")
    box.press("Enter")
    page.get_by_role("link", name=f"{NAME[0]} {NAME[1]}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(EMAIL)
    expect(page.get_by_role("heading", name="Calls (1)")).to_be_visible()
    expect(page.get_by_text("Wilhelmina says the price is too high")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "privacy-person.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download JSON").click()
    data = json.loads(Path(download_info.value.path()).read_text())
    assert data["lead"]["email"] == EMAIL and data["deals"][0]["stage"] == "proposal"

    erase = page.get_by_role("button", name=f"Erase {NAME[0]} {NAME[1]}")
    erase.click()  # the required box stops the browser: nothing is sent
    assert not ErasureAudit.objects.exists()
    page.get_by_label("Erase anyway").check()
    erase.click()
    expect(page.get_by_text(f"Lead {lead.pk} was erased")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "privacy-erased.png"))

    assert ErasureAudit.objects.get().had_open_deal is True
    assert Lead.objects.get(pk=lead.pk).last_name == ""
    box = page.get_by_label("E-mail, name, phone or company")
    box.fill("quarrington")
    box.press("Enter")
    expect(page.get_by_text("Nobody matches")).to_be_visible()
