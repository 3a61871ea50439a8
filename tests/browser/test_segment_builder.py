"""A marketer builds a segment in Chromium: the live count follows the definition (htmx),
conditions and groups are added and removed, and saving makes a version."""

import re

import pytest
from playwright.sync_api import expect

from leads.models import Segment
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db(transaction=True)

HTMX_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling"


def htmx_idle(page):
    """Wait until htmx has no request in flight and has finished swapping and settling, as a
    person would before touching the re-rendered builder."""
    page.wait_for_function(f"() => !document.querySelector({HTMX_BUSY!r})")


def test_a_marketer_builds_a_segment_with_a_live_count_and_saves_it(make_user, login, live_server, artifacts_dir):
    make_user("Marketing", username="maya", password="pw", is_staff=True)
    LeadFactory.create_batch(3, industry="software", employees=500, country="DE")
    LeadFactory.create_batch(2, industry="software", employees=20, country="US")
    LeadFactory(industry="retail", employees=900, country="DE")

    page = login("maya", "pw")
    page.goto(f"{live_server.url}/marketing/segments/new/")
    page.get_by_label("Value").fill("software")
    page.get_by_label("Value").press("Tab")
    expect(page.locator("#live-count")).to_have_text("5")

    page.get_by_role("button", name="+ Condition").click()
    expect(page.locator("select[name='n-r.1-field']")).to_be_visible()
    htmx_idle(page)
    page.locator("select[name='n-r.1-field']").select_option("employees")
    # The builder re-renders with the operators of a number field.
    expect(page.locator("select[name='n-r.1-op'] option[value='gte']")).to_have_count(1)
    htmx_idle(page)
    page.locator("select[name='n-r.1-op']").select_option("gte")
    htmx_idle(page)
    page.locator("input[name='n-r.1-value']").fill("100")
    page.locator("input[name='n-r.1-value']").press("Tab")
    expect(page.locator("#live-count")).to_have_text("3")

    page.get_by_role("button", name="+ Group").click()
    expect(page.locator("select[name='n-r.2-type']")).to_be_visible()
    htmx_idle(page)
    page.get_by_role("button", name="Remove group r.2").click()
    expect(page.locator("select[name='n-r.2-type']")).to_have_count(0)

    htmx_idle(page)
    page.get_by_label("Name").fill("Big software")
    page.screenshot(path=str(artifacts_dir / "segment-builder.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/marketing/segments/\d+/$"))
    segment = Segment.objects.get(name="Big software")
    assert segment.member_count == 3
    assert segment.definition == {
        "all": [
            {"field": "industry", "op": "eq", "value": "software"},
            {"field": "employees", "op": "gte", "value": 100},
        ]
    }
    expect(page.get_by_text("Version history")).to_be_visible()
