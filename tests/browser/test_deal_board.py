"""The deal board in Chromium: drag and drop, the keyboard, the close dialog, and the manager's
team board and forecast."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from config.roles import SALES_MANAGER, SALES_REP
from crm.models import Deal, DealStage
from tests.crm.factories import AccountFactory, DealFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _user(username, role):
    group, _ = Group.objects.get_or_create(name=role)
    user = UserFactory(username=username, first_name=username.title())
    user.groups.add(group)
    return user


@pytest.fixture
def board(db):
    rep = _user("rosa", SALES_REP)
    acme = AccountFactory(name="Acme GmbH")
    today = timezone.localdate()
    deals = {
        "pilot": DealFactory(
            owner=rep,
            account=acme,
            name="Acme pilot",
            stage=DealStage.QUALIFICATION,
            amount=116204,
            expected_close_on=today + datetime.timedelta(days=20),
        ),
        "rollout": DealFactory(
            owner=rep,
            account=acme,
            name="Acme rollout",
            stage=DealStage.PROPOSAL,
            amount=40000,
            expected_close_on=today + datetime.timedelta(days=50),
        ),
        "support": DealFactory(
            owner=rep,
            name="Beta support",
            stage=DealStage.DISCOVERY,
            amount="2500.50",
            expected_close_on=today + datetime.timedelta(days=80),
        ),
    }
    return {"rep": rep, **deals}


def _stage_total(page, stage):
    return page.locator(f"#total-{stage}").inner_text()


def test_dragging_a_card_moves_the_deal_and_updates_the_totals(page, live_server, login, board, artifacts_dir):
    page.set_viewport_size({"width": 1280, "height": 800})
    login("rosa")
    page.goto(f"{live_server.url}/deals/")
    expect(page.locator("#total-qualification")).to_contain_text("€116,204")
    expect(page.locator("#total-proposal")).to_contain_text("€40,000")
    expect(page.locator("#pipeline-total")).to_contain_text("€158,705")
    page.screenshot(path=str(artifacts_dir / "deal-board.png"), full_page=True)

    page.locator(f"#deal-{board['pilot'].pk}").drag_to(page.locator("#column-proposal"))

    expect(page.locator("#column-proposal")).to_contain_text("Acme pilot")
    expect(page.locator("#total-proposal")).to_contain_text("€156,204")
    expect(page.locator("#total-proposal")).to_contain_text("weighted €78,102")
    expect(page.locator("#total-qualification")).to_contain_text("€0")
    expect(page.locator("#board-status")).to_contain_text("moved to Proposal")
    assert Deal.objects.get(pk=board["pilot"].pk).stage == DealStage.PROPOSAL
    page.screenshot(path=str(artifacts_dir / "deal-board-after-drop.png"), full_page=True)

    page.reload()  # stored, not just drawn
    expect(page.locator("#column-proposal")).to_contain_text("Acme pilot")


def test_a_focused_card_moves_with_the_arrow_keys_and_keeps_focus(page, live_server, login, board):
    login("rosa")
    page.goto(f"{live_server.url}/deals/")
    card = page.locator(f"#deal-{board['support'].pk}")
    card.focus()

    page.keyboard.press("ArrowRight")
    expect(page.locator("#column-proposal")).to_contain_text("Beta support")
    expect(page.locator(f"#deal-{board['support'].pk}")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#column-negotiation")).to_contain_text("Beta support")
    expect(page.locator("#total-negotiation")).to_contain_text("€2,501")  # 2,500.50 without cents

    assert Deal.objects.get(pk=board["support"].pk).stage == DealStage.NEGOTIATION
    assert [c.to_stage for c in board["support"].stage_changes.all()] == ["proposal", "negotiation"]


def test_closing_lost_in_the_dialog_needs_a_reason(page, live_server, login, board, artifacts_dir):
    login("rosa")
    page.goto(f"{live_server.url}/deals/")
    page.locator(f"#deal-{board['rollout'].pk}").get_by_role("link", name="Close won or lost…").click()
    dialog = page.locator("#close-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Close “Acme rollout”")

    dialog.get_by_label("Lost", exact=True).check()
    dialog.get_by_role("button", name="Close deal").click()
    expect(dialog.locator(".field-error")).to_have_text("Say why the deal was lost.")
    expect(dialog.get_by_label("Lost reason")).to_be_focused()
    page.screenshot(path=str(artifacts_dir / "deal-close-dialog-error.png"))
    assert Deal.objects.get(pk=board["rollout"].pk).stage == DealStage.PROPOSAL

    dialog.get_by_label("Lost reason").select_option("competitor")
    dialog.get_by_role("button", name="Close deal").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#closed-{board['rollout'].pk}")).to_contain_text("Competitor")
    expect(page.locator("#column-proposal")).not_to_contain_text("Acme rollout")
    deal = Deal.objects.get(pk=board["rollout"].pk)
    assert (deal.stage, deal.lost_reason) == (DealStage.LOST, "competitor")


def test_without_javascript_the_select_and_the_close_page_work(browser, live_server, board, artifacts_dir):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("rosa")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/deals/")
    card = page.locator(f"#deal-{board['pilot'].pk}")
    card.get_by_label("Move “Acme pilot” to").select_option("negotiation")
    card.get_by_role("button", name="Move").click()
    expect(page.locator(".messages")).to_contain_text("moved to Negotiation")

    page.locator(f"#deal-{board['pilot'].pk}").get_by_role("link", name="Close won or lost…").click()
    expect(page).to_have_url(re.compile(rf"/deals/{board['pilot'].pk}/close/"))
    page.get_by_label("Lost", exact=True).check()
    page.get_by_role("button", name="Close deal").click()
    expect(page.locator(".field-error")).to_have_text("Say why the deal was lost.")
    page.screenshot(path=str(artifacts_dir / "deal-close-page-no-js.png"))
    page.get_by_label("Won").check()
    page.get_by_role("button", name="Close deal").click()
    expect(page).to_have_url(re.compile(r"/deals/$"))
    expect(page.locator(f"#closed-{board['pilot'].pk}")).to_contain_text("Closed won")
    context.close()


def test_the_manager_filters_the_team_board_and_reads_the_forecast(page, live_server, login, board, artifacts_dir):
    _user("mona", SALES_MANAGER)
    other = _user("otto", SALES_REP)
    DealFactory(
        owner=other,
        name="Otto's deal",
        stage=DealStage.NEGOTIATION,
        amount=9000,
        expected_close_on=timezone.localdate(),
    )
    DealFactory(owner=board["rep"], name="Won last week", stage=DealStage.WON, amount=12000, closed_at=timezone.now())
    page.set_viewport_size({"width": 1280, "height": 900})
    login("mona")
    page.goto(f"{live_server.url}/deals/team/")
    expect(page.locator("#deal-board")).to_contain_text("Otto's deal")
    expect(page.locator("#deal-board")).to_contain_text("Acme pilot")
    page.screenshot(path=str(artifacts_dir / "deal-team-board.png"), full_page=True)

    page.get_by_label("Rep").select_option(label="Otto")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#deal-board")).to_contain_text("Otto's deal")
    expect(page.locator("#deal-board")).not_to_contain_text("Acme pilot")

    page.get_by_role("link", name="Forecast").click()
    this_month = timezone.localdate().strftime("%Y-%m")
    row = page.locator(f"#month-{this_month}")
    # won 12,000 + Otto's 9,000 in negotiation (a commit stage)
    expect(row.locator(".committed")).to_have_text("€21,000")
    expect(page.locator("#forecast-chart rect.best_case")).to_have_count(12)
    page.screenshot(path=str(artifacts_dir / "deal-forecast.png"), full_page=True)

    page.get_by_label("Rep").select_option(label="Otto")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(f"#month-{this_month} .committed")).to_have_text("€9,000")
    expect(page.locator(f"#month-{this_month} .weighted")).to_have_text("€6,750")  # 75 %
    expect(page.locator(f"#month-{this_month} .best-case")).to_have_text("€9,000")
