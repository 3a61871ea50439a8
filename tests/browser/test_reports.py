"""A manager opens every report in a real Chromium: charts, tables, a drill-down and the CSV
link work; a screenshot of each report is saved for review."""

import datetime

import pytest
from django.utils import timezone

from reports.selectors import REPORTS
from tests.reports.conftest import make_activity


@pytest.fixture(autouse=True)
def _role_groups(transactional_db):
    """A transactional test starts from a flushed database: put the role groups back."""
    from django.apps import apps

    from config.roles import sync_role_groups

    sync_role_groups(apps)


@pytest.fixture
def demo_history(rep, other_rep):
    today = timezone.localdate()
    day = today - datetime.timedelta(days=today.weekday() + 14)
    monday = datetime.datetime.combine(day, datetime.time(9, 0), tzinfo=timezone.get_current_timezone())
    make_activity(monday, 24, rep=rep, other_rep=other_rep)


@pytest.mark.django_db(transaction=True)
def test_a_manager_opens_every_report_and_screenshots_it(
    page, live_server, login, manager, demo_history, artifacts_dir
):
    login("manager")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Reports", exact=True).click()
    assert page.get_by_role("link", name="Hand-off").first.is_visible()
    for slug, spec in REPORTS.items():
        page.goto(f"{live_server.url}/admin/reports/{slug}/")
        assert page.locator("#content-main").is_visible()
        assert page.get_by_label("From", exact=True).is_visible()
        assert page.locator("svg.report-chart").count() >= 1, slug
        assert page.locator("table[data-table] tbody tr").count() >= 1, slug
        page.screenshot(path=str(artifacts_dir / f"report-{slug}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_number_drills_down_to_the_assignment_changelist(page, live_server, login, manager, demo_history):
    login("manager")
    page.goto(f"{live_server.url}/admin/reports/handoff/")
    # the "Handed off" column (third) of the first week with hand-offs
    page.locator("table[data-table=weekly] tbody tr td:nth-child(3) a").first.click()
    page.wait_for_load_state("networkidle")
    assert "/admin/crm/assignment/" in page.url
    assert page.locator("#result_list").is_visible()


@pytest.mark.django_db(transaction=True)
def test_a_bad_filter_shows_a_message_in_the_page(page, live_server, login, manager):
    login("manager")
    page.goto(f"{live_server.url}/admin/reports/funnel/")
    page.get_by_label("From", exact=True).fill("2026-03-01")
    page.get_by_label("To", exact=True).fill("2026-02-01")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("alert").is_visible()
    assert "on or before the end date" in page.get_by_role("alert").inner_text()


@pytest.mark.django_db(transaction=True)
def test_the_csv_link_downloads_the_table(page, live_server, login, manager, demo_history):
    login("manager")
    page.goto(f"{live_server.url}/admin/reports/rep-activity/")
    with page.expect_download() as download_info:
        page.locator("#table-reps").get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("rep-activity-reps-")
    with open(download.path()) as downloaded:
        assert downloaded.readline().startswith("Rep,Calls,")


@pytest.mark.django_db(transaction=True)
def test_a_funnel_stage_past_new_drills_down_to_exactly_its_leads(
    page, live_server, login, manager, demo_history, artifacts_dir
):
    login("manager")
    page.goto(f"{live_server.url}/admin/reports/funnel/")
    # the "Engaged" column (third) of the first cohort that has one
    cell = page.locator("table[data-table=cohorts] tbody tr td:nth-child(3) a").first
    shown = int(cell.inner_text())
    page.screenshot(path=str(artifacts_dir / "report-funnel-links.png"), full_page=True)
    cell.click()
    page.wait_for_load_state("networkidle")
    assert "/admin/leads/lead/" in page.url and "reached=engaged" in page.url
    assert page.locator("#result_list tbody tr").count() == shown


@pytest.mark.django_db(transaction=True)
def test_the_hand_off_page_says_what_each_queue_figure_counts(
    page, live_server, login, manager, rep, demo_history, artifacts_dir
):
    from crm.models import AssignmentStatus
    from tests.crm.factories import AssignmentFactory, SalesQueueFactory

    now = timezone.now()
    queue = SalesQueueFactory(name="Ageing")
    old = now - datetime.timedelta(hours=2000)
    AssignmentFactory(
        queue=queue,
        rep=rep,
        status=AssignmentStatus.ASSIGNED,
        handed_off_at=old,
        assigned_at=old,
        sla_due_at=old + datetime.timedelta(hours=1),
        first_touch_at=old,
    )
    login("manager")
    today = timezone.localdate()
    wednesday = today - datetime.timedelta(days=today.weekday() + 5 * 7 - 2)
    page.goto(f"{live_server.url}/admin/reports/handoff/?date_from={wednesday.isoformat()}")
    ageing = page.locator("#table-queue_ageing")
    assert "Called, not accepted" in ageing.inner_text()
    assert "no SLA applies to accepting" in ageing.locator(".report-note").inner_text()
    first_week = page.locator("table[data-table=weekly] tbody tr").first.inner_text()
    assert f"{(wednesday - datetime.timedelta(days=2)).isoformat()} (partial week: 5 of 7 days)" in first_week
    ageing.screenshot(path=str(artifacts_dir / "report-handoff-ageing.png"))
    page.screenshot(path=str(artifacts_dir / "report-handoff.png"), full_page=True)
