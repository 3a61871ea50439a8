"""A marketer changes the scoring rules in Chromium: a field error, the what-if with its
histogram, saving with a note, the re-score's progress, and restoring the first version."""

import pytest
from playwright.sync_api import expect

import leads.tasks  # noqa: F401  (registers the tasks run inline)
from leads.models import RuleKind, RuleSetVersion, ScoringPolicy
from leads.scoring import leads_rescore_all
from tests.leads.factories import EngagementEventFactory, LeadFactory, ScoringRuleFactory
from tests.sent_tasks import run_sent_tasks_inline

pytestmark = pytest.mark.django_db(transaction=True)
HTMX_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling"


def htmx_idle(page):
    page.wait_for_function(f"() => !document.querySelector({HTMX_BUSY!r})")


@pytest.fixture
def scored_leads():
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": 30, "fit_minimum": 5})
    ScoringRuleFactory(name="Software", field="industry", operator="eq", value="software", points=15)
    ScoringRuleFactory(
        name="Webinars",
        kind=RuleKind.ENGAGEMENT,
        field="",
        operator="",
        value=None,
        points=0,
        event_kind="webinar",
        points_per_event=10,
        cap=30,
    )
    for i in range(12):
        lead = LeadFactory(industry="software" if i % 2 else "retail")
        for _ in range(i % 4):
            EngagementEventFactory(lead=lead, kind="webinar")
    leads_rescore_all(qualify=False)


def test_a_marketer_checks_a_change_saves_it_and_restores_the_first_version(
    make_user, login, live_server, artifacts_dir, scored_leads, monkeypatch
):
    run_sent_tasks_inline(monkeypatch)
    make_user("Marketing", username="maya", password="pw", is_staff=True)
    page = login("maya")
    page.goto(f"{live_server.url}/marketing/scoring/")
    expect(page.get_by_role("heading", name="Scoring rules and the MQL threshold")).to_be_visible()

    page.get_by_label("Threshold (score to qualify)").fill("lots")
    page.get_by_role("button", name="What if").click()
    htmx_idle(page)
    expect(page.locator("#threshold-err")).to_have_text("Threshold: Enter a number.")

    page.get_by_label("Threshold (score to qualify)").fill("20")
    page.get_by_label("Fit rule 1 points").fill("25")
    page.get_by_role("button", name="What if").click()
    htmx_idle(page)
    expect(page.locator("#whatif")).to_contain_text("newly cross the bar")
    expect(page.get_by_role("img", name="Histogram of lead scores today and with the change")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "scoring-whatif.png"), full_page=True)

    page.get_by_label("Note (why this change)").fill("More weight on software")
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text("Saved as version 2")
    expect(page.locator("#rescore-progress")).to_contain_text("100% (12 of 12)")
    expect(page.locator("table").last).to_contain_text("Rule 'Software': points 15 -> 25")
    page.screenshot(path=str(artifacts_dir / "scoring-saved.png"), full_page=True)
    assert ScoringPolicy.current().threshold == 20

    page.get_by_role("button", name="Restore version 1").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text("Restored as version 3")
    assert ScoringPolicy.current().threshold == 30
    assert RuleSetVersion.objects.get(number=3).restored_from.number == 1


def test_a_rep_is_refused_the_scoring_page(make_user, login, live_server, scored_leads):
    make_user("Sales rep", username="rita", password="pw")
    page = login("rita")
    response = page.goto(f"{live_server.url}/marketing/scoring/")
    assert response.status == 403
    expect(page.get_by_role("link", name="Scoring rules")).to_have_count(0)
