"""A manager's /calls/ in a real browser: the team, a rep's list, a reassign from there."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.models import Assignment
from tests.crm.sales_fixtures import assigned_lead

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_opens_a_rep_from_the_team_and_reassigns_a_lead(page, live_server, login, make_user, artifacts_dir):
    make_user("Sales manager", username="boss", is_staff=True)
    ana = make_user("Sales rep", username="ana", first_name="Ana", last_name="Silva")
    ben = make_user("Sales rep", username="ben", first_name="Ben", last_name="Okafor")
    late = timezone.now() - datetime.timedelta(minutes=40)
    vera = assigned_lead(ana, first_name="Vera", last_name="Teixeira", score=80, assignment={"sla_due_at": late})
    assigned_lead(ana, first_name="Ivo", last_name="Santos", score=40)
    assigned_lead(ben, first_name="Lin", last_name="Chen", score=60)

    login("boss")
    page.goto(f"{live_server.url}/calls/")
    team = page.locator("#team")
    expect(team.locator(f'tr[data-rep-id="{ana.pk}"] td').nth(1)).to_have_text("2")
    expect(team.locator(f'tr[data-rep-id="{ana.pk}"] td').nth(2)).to_have_text("1")
    expect(team.locator(f'tr[data-rep-id="{ana.pk}"]')).to_contain_text("Vera Teixeira")
    page.screenshot(path=str(artifacts_dir / "team-calls.png"), full_page=True)

    page.get_by_role("link", name="Ana Silva").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana Silva's call list")
    expect(page.locator("tr[data-lead-id]").first).to_contain_text("Vera Teixeira")  # overdue first
    page.get_by_label("Reassign Vera Teixeira to").select_option(label="ben")
    page.locator(f'tr[data-lead-id="{vera.lead_id}"]').get_by_role("button", name="Reassign").click()

    expect(page.get_by_text("reassigned to ben")).to_be_visible()
    expect(page.locator(f'tr[data-lead-id="{vera.lead_id}"]')).to_have_count(0)
    page.screenshot(path=str(artifacts_dir / "team-rep-reassigned.png"), full_page=True)
    assert Assignment.objects.active().get(lead_id=vera.lead_id).rep == ben
