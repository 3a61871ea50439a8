"""A rep's day in a real browser: the call list, the next lead, a call with an objection and a
follow-up, converting, moving and closing the deal; and another rep locked out."""

import datetime
import re
import zoneinfo

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from config.roles import SALES_REP
from crm.models import AssignmentStatus, Call, Deal, DealStage, FollowUp, ObjectionNote
from leads.models import Lead, LifecycleStage
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.crm.factories import AssignmentFactory, SalesQueueFactory
from tests.factories import UserFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _zone(*, inside: bool) -> str:
    now = timezone.now()
    for offset in range(-12, 13):
        name = f"Etc/GMT{offset:+d}" if offset else "UTC"
        if (9 <= now.astimezone(zoneinfo.ZoneInfo(name)).hour < 20) == inside:
            return name
    raise AssertionError("no such zone")


def _rep(username):
    group, _ = Group.objects.get_or_create(name=SALES_REP)
    user = UserFactory(username=username)
    user.groups.add(group)
    return user


def _handed_off(rep, queue, *, first, last, company, score, sla_minutes, reasons=(), inside=True):
    lead = LeadFactory(
        first_name=first,
        last_name=last,
        company=company,
        stage=LifecycleStage.HANDED_OFF,
        owner=rep,
        score=score,
        timezone=_zone(inside=inside),
        phone="+49 30 555 0101",
        score_breakdown=[{"rule": label, "points": points} for label, points in reasons],
    )
    now = timezone.now()
    AssignmentFactory(
        lead=lead,
        rep=rep,
        queue=queue,
        status=AssignmentStatus.ASSIGNED,
        handed_off_at=now - datetime.timedelta(minutes=90),
        sla_due_at=now + datetime.timedelta(minutes=sla_minutes),
    )
    return lead


@pytest.fixture
def day(db):
    rep = _rep("rita")
    queue = SalesQueueFactory(name="Inbound DACH")
    campaign = CampaignFactory(name="Spring webinar")
    overdue = _handed_off(
        rep,
        queue,
        first="Olga",
        last="Overdue",
        company="Acme GmbH",
        score=40,
        sla_minutes=-20,
        reasons=[("Webinar attended", 25), ("Industry is software", 15)],
    )
    CampaignMemberFactory(lead=overdue, campaign=campaign)
    hot = _handed_off(
        rep,
        queue,
        first="Hugo",
        last="Hot",
        company="Beta AG",
        score=85,
        sla_minutes=45,
        reasons=[("ICP match", 50), ("Pricing page visits", 35)],
    )
    warm = _handed_off(
        rep,
        queue,
        first="Wim",
        last="Warm",
        company="Gamma BV",
        score=30,
        sla_minutes=50,
        reasons=[("Title is Head of", 30)],
    )
    asleep = _handed_off(
        rep,
        queue,
        first="Nina",
        last="Night",
        company="Delta KK",
        score=95,
        sla_minutes=-60,
        reasons=[("ICP match", 50)],
        inside=False,
    )
    return {"rep": rep, "overdue": overdue, "hot": hot, "warm": warm, "asleep": asleep}


def test_a_rep_works_a_lead_from_the_call_list_to_a_won_deal(page, live_server, login, day, artifacts_dir):
    login("rita")

    # Lands on the call list, in the agreed order.
    expect(page).to_have_url(re.compile(r"/calls/$"))
    rows = page.locator("table.call-list tbody tr")
    expect(rows).to_have_count(4)
    order = [int(rows.nth(i).get_attribute("data-lead-id")) for i in range(4)]
    assert order == [day["overdue"].pk, day["hot"].pk, day["warm"].pk, day["asleep"].pk]
    expect(rows.last).to_contain_text("Outside calling hours")
    expect(rows.first).to_contain_text("SLA overdue")
    expect(rows.first).to_contain_text("Webinar attended")
    expect(rows.first).to_contain_text("Spring webinar")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.screenshot(path=str(artifacts_dir / "call-list.png"), full_page=True)
    page.set_viewport_size({"width": 768, "height": 1024})
    expect(page.locator("table.call-list th.optional").first).to_be_hidden()
    page.screenshot(path=str(artifacts_dir / "call-list-tablet.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})

    # "Next call" opens the top lead.
    page.get_by_role("link", name=re.compile("^Next call")).click()
    expect(page).to_have_url(re.compile(rf"/calls/leads/{day['overdue'].pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Olga Overdue")
    page.screenshot(path=str(artifacts_dir / "lead-page.png"), full_page=True)

    page.get_by_role("button", name="Accept lead").click()
    expect(page.locator(".messages")).to_contain_text("Lead accepted")

    # Log a call with an objection and a follow-up.
    page.locator("#log-call label", has_text="Callback requested").click()
    page.get_by_label("Duration (minutes)").fill("4")
    page.get_by_label("Notes").fill("Interested, needs the CFO on the next call.")
    next_step = (timezone.now() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Next step (creates a follow-up)").fill(next_step)
    page.get_by_label("Objection category").first.select_option("price")
    page.get_by_label("What was said").first.fill("Your competitor is cheaper.")
    page.get_by_label("How it was answered").first.fill("Walked through the total cost.")
    page.get_by_role("button", name="Log call").click()

    expect(page.locator(".messages")).to_contain_text("Call logged")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Call: Callback requested")
    expect(timeline).to_contain_text("Objections: Price")
    call = Call.objects.get(lead=day["overdue"])
    assert ObjectionNote.objects.get(call=call).said == "Your competitor is cheaper."
    assert FollowUp.objects.get(call=call).kind == "callback"

    # Convert, move, close won.
    page.get_by_label("Deal name").fill("Acme pilot")
    page.get_by_label("Amount").fill("5000")
    page.get_by_role("button", name="Convert to deal").click()
    expect(page).to_have_url(re.compile(r"/deals/$"))
    deal = Deal.objects.get(lead=day["overdue"])
    card = page.locator(f"#deal-{deal.pk}")
    expect(card).to_contain_text("€5,000")
    page.screenshot(path=str(artifacts_dir / "deals.png"), full_page=True)

    card.get_by_label("Move “Acme pilot” to").select_option("proposal")
    card.get_by_role("button", name="Move").click()
    expect(page.locator("#board-status")).to_contain_text("moved to Proposal")
    expect(page.locator("#column-proposal")).to_contain_text("Acme pilot")

    page.locator(f"#deal-{deal.pk}").get_by_role("link", name="Close won or lost…").click()
    dialog = page.locator("#close-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Won").check()
    dialog.get_by_role("button", name="Close deal").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#closed-{deal.pk}")).to_contain_text("Closed won")

    deal.refresh_from_db()
    assert deal.stage == DealStage.WON
    assert Lead.objects.get(pk=day["overdue"].pk).stage == LifecycleStage.CUSTOMER


def test_a_second_rep_cannot_open_the_first_reps_lead(page, live_server, login, day):
    _rep("bruno")
    login("bruno")
    # The empty list keeps a hidden table for live rows to land in.
    expect(page.locator("table.call-list")).to_be_hidden()

    response = page.goto(f"{live_server.url}/calls/leads/{day['overdue'].pk}/")

    assert response.status == 404


def test_show_the_next_rows_appends_them_in_place(page, live_server, login, day, monkeypatch):
    monkeypatch.setattr("crm.views.CALL_LIST_PAGE_SIZE", 2)
    login("rita")

    leads = page.locator("table.call-list tbody tr[data-lead-id]")
    expect(leads).to_have_count(2)
    page.get_by_role("link", name="Show the next 2 →").click()

    expect(leads).to_have_count(4)
    expect(page).to_have_url(re.compile(r"/calls/$"))  # appended by htmx, not a new page
    order = [int(leads.nth(i).get_attribute("data-lead-id")) for i in range(4)]
    assert order == [day["overdue"].pk, day["hot"].pk, day["warm"].pk, day["asleep"].pk]
    expect(page.locator("table.call-list td.rank")).to_have_text(["1", "2", "3", "4"])
    expect(leads.nth(2).locator("a.lead-link")).to_be_focused()  # the keyboard carries on there
    expect(page.get_by_role("link", name=re.compile("^Show the next"))).to_have_count(0)
