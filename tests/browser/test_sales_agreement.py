"""The marketing-sales agreement in Chromium: a marketer sets a queue's target (a field error
first), a manager reads target vs delivered with the charts, a rep reads it without the form."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.models import AssignmentStatus
from tests.crm.factories import AssignmentFactory, SalesQueueFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_marketer_sets_the_agreement_and_a_manager_and_a_rep_read_it(make_user, login, live_server, artifacts_dir):
    make_user("Marketing", username="maya", password="pw", is_staff=True)
    make_user("Sales manager", username="max", password="pw", is_staff=True)
    make_user("Sales rep", username="rita", password="pw")
    queue = SalesQueueFactory(name="EMEA inbound", business_days=[])
    now = timezone.now()
    for days, status, reason in [
        (1, AssignmentStatus.ACCEPTED, ""),
        (2, AssignmentStatus.REJECTED, "not_a_fit"),
        (40, AssignmentStatus.ASSIGNED, ""),
        (70, AssignmentStatus.REJECTED, "no_contact"),
    ]:
        at = now - datetime.timedelta(days=days)
        AssignmentFactory(
            queue=queue,
            handed_off_at=at,
            first_touch_at=at + datetime.timedelta(minutes=30),
            status=status,
            accepted_at=at if status == "accepted" else None,
            rejected_at=at if status == "rejected" else None,
            rejected_reason=reason,
        )
    page = login("maya")
    page.goto(f"{live_server.url}/agreement/")
    expect(page.get_by_role("heading", name="Marketing-sales agreement")).to_be_visible()
    page.get_by_label("MQL target").fill("-3")
    page.get_by_label("Month").fill(f"{now:%Y-%m}")
    page.get_by_label("First touch within (business hours)").fill("2")
    page.get_by_label("Call attempts before recycle").fill("4")
    page.get_by_role("button", name="Save agreement").click()
    expect(page.locator("#mql_target-err")).to_contain_text("greater than or equal to 0")
    page.get_by_label("MQL target").fill("12")
    page.get_by_role("button", name="Save agreement").click()
    expect(page.get_by_text(f"Saved the agreement of EMEA inbound for {now:%B %Y}.")).to_be_visible()

    page.context.clear_cookies()
    page = login("max")
    page.goto(f"{live_server.url}/agreement/")
    expect(page.get_by_role("img", name="MQLs: target and delivered")).to_be_visible()
    expect(page.locator("table.agreement tbody tr").last).to_contain_text("12 / 2")
    page.screenshot(path=str(artifacts_dir / "agreement-manager.png"), full_page=True)

    page.context.clear_cookies()
    page = login("rita")
    page.goto(f"{live_server.url}/agreement/")
    expect(page.get_by_role("heading", name="EMEA inbound")).to_be_visible()
    expect(page.get_by_role("button", name="Save agreement")).to_have_count(0)
    page.screenshot(path=str(artifacts_dir / "agreement-rep.png"), full_page=True)
