"""Live pages in a real browser: a new assignment appears in the rep's call list without a
reload, with a spoken notice, and the bell counts it."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from config.roles import SALES_REP
from crm.services.handoff import _notify_assigned
from tests.crm.factories import SalesQueueFactory
from tests.crm.sales_fixtures import assigned_lead
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_lead_appears_on_the_open_call_list_without_reload(page, live_server, login, settings, artifacts_dir):
    settings.LIVE_POLL_SECONDS = 1
    group, _ = Group.objects.get_or_create(name=SALES_REP)
    rep = UserFactory(username="livewire")
    rep.groups.add(group)
    assigned_lead(rep, first_name="Ada", last_name="First", score=10)
    login("livewire")
    page.goto(f"{live_server.url}/calls/")
    page.evaluate("window.__stayed = true")
    expect(page.locator("tr[data-lead-id]")).to_have_count(1)
    expect(page.locator("#bell-count")).to_be_hidden()

    # The hand-off's own notice (name + the queue's SLA in hours), not a hand-written one.
    assignment = assigned_lead(
        rep, first_name="Vera", last_name="Teixeira", score=90, queue=SalesQueueFactory(sla_minutes=240)
    )
    _notify_assigned([assignment])

    row = page.locator(f'tr[data-lead-id="{assignment.lead_id}"]')
    expect(row).to_be_visible(timeout=15000)
    expect(page.locator("tr[data-lead-id]")).to_have_count(2)
    notice = page.get_by_role("status")
    expect(notice).to_have_text("New lead: Vera Teixeira, SLA 4 h")
    expect(notice).to_have_attribute("aria-live", "polite")
    expect(page.locator("#bell-count")).to_have_text("1")
    expect(page.locator("#bell")).to_have_attribute("aria-label", "Notifications, 1 unread")
    assert page.evaluate("window.__stayed") is True  # the same page: no reload
    page.screenshot(path=str(artifacts_dir / "live-new-lead.png"))

    page.locator("#bell").click()
    page.wait_for_url("**/notifications/")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("#bell-count")).to_be_hidden(timeout=10000)
