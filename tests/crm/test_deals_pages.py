"""The rep's deal board: open deals by stage with formatted amounts, stage and weighted totals,
moving (form, JSON for drag and drop), closing in the dialog's form or its fallback page."""

import json
import re

import pytest
from django.urls import reverse

from crm.models import OPEN_DEAL_STAGES, Deal, DealStage, DealStageProbability
from crm.services.deals import deal_convert
from leads.models import Lead, LifecycleStage
from tests.crm.factories import DealFactory
from tests.crm.sales_fixtures import accepted_lead

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def _deal(rep, amount="1000"):
    assignment = accepted_lead(rep)
    return deal_convert(lead_id=assignment.lead_id, actor=rep, amount=amount)


def _column(body: str, stage: str) -> str:
    return re.search(rf'<section class="column" id="column-{stage}".*?</section>', body, re.S).group(0)


def test_the_board_shows_open_deals_by_stage_with_grouped_currency_amounts(client_for, rep, other_rep):
    first = _deal(rep, "116204")
    second = _deal(rep, "250.50")
    Deal.objects.filter(pk=second.pk).update(stage=DealStage.PROPOSAL)
    foreign = DealFactory(owner=other_rep, name="Not yours")

    body = client_for(rep).get(reverse("crm:deal-list")).content.decode()

    assert first.name in body and second.name in body
    assert foreign.name not in body
    assert "(1)</span>" in _column(body, "qualification") and "(1)</span>" in _column(body, "proposal")
    assert "€116,204<" in body and "€250.50<" in body
    text = re.sub(r'value="[^"]*"', "", body)  # the raw figure only in <data value> for money.js
    assert "116204" not in text


def test_each_stage_shows_its_total_and_weighted_total_and_the_board_its_pipeline(client_for, rep):
    DealFactory(owner=rep, stage=DealStage.PROPOSAL, amount=10000)
    DealFactory(owner=rep, stage=DealStage.PROPOSAL, amount=2000)
    DealFactory(owner=rep, stage=DealStage.NEGOTIATION, amount=4000)
    DealStageProbability.objects.filter(stage=DealStage.PROPOSAL).update(probability=40)

    body = client_for(rep).get(reverse("crm:deal-list")).content.decode()

    proposal = _column(body, "proposal")
    assert "40 %" in proposal
    assert "€12,000<" in proposal and "weighted <data" in proposal and "€4,800<" in proposal
    negotiation = _column(body, "negotiation")
    assert "€4,000<" in negotiation and "€3,000<" in negotiation  # 75 % by default
    pipeline = re.search(r'<p class="pipeline".*?</p>', body, re.S).group(0)
    assert "€16,000<" in pipeline and "€7,800<" in pipeline


def test_totals_are_kept_per_currency(client_for, rep):
    DealFactory(owner=rep, stage=DealStage.DISCOVERY, amount=1000, currency="EUR")
    DealFactory(owner=rep, stage=DealStage.DISCOVERY, amount=500, currency="USD")

    discovery = _column(client_for(rep).get(reverse("crm:deal-list")).content.decode(), "discovery")

    assert "€1,000<" in discovery and "$500<" in discovery and "€1,500" not in discovery


@pytest.mark.parametrize("deals", [1, 20])
def test_the_board_runs_a_constant_number_of_queries(client_for, rep, django_assert_num_queries, deals):
    for i in range(deals):
        DealFactory(owner=rep, stage=OPEN_DEAL_STAGES[i % len(OPEN_DEAL_STAGES)])
        DealFactory(owner=rep, stage=DealStage.WON, closed_at="2026-01-01T00:00:00Z")
    client = client_for(rep)
    # session, user, groups, stage probabilities, open deals, recently closed deals
    with django_assert_num_queries(6):
        response = client.get(reverse("crm:deal-list"))
    assert response.status_code == 200
    with django_assert_num_queries(6):
        fragment = client.get(reverse("crm:deal-list"), {"fragment": "board"})
    assert fragment.content.decode().lstrip().startswith('<div id="deal-board"')


def test_the_board_fragment_is_the_board_alone(client_for, rep):
    deal = DealFactory(owner=rep, stage=DealStage.DISCOVERY)
    body = client_for(rep).get(reverse("crm:deal-list"), {"fragment": "board"}).content.decode()
    assert f'id="deal-{deal.pk}"' in body and "<html" not in body


def test_moving_a_deal_from_the_board(client_for, rep):
    deal = _deal(rep)
    response = client_for(rep).post(reverse("crm:deal-move", args=[deal.pk]), {"stage": "negotiation"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == DealStage.NEGOTIATION


def test_a_drag_and_drop_move_asks_for_json_and_gets_the_message(client_for, rep):
    deal = _deal(rep)
    response = client_for(rep).post(reverse("crm:deal-move", args=[deal.pk]), {"stage": "proposal"}, **JSON)
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "message": f"“{deal.name}” moved to Proposal.",
        "deal": deal.pk,
        "stage": "proposal",
    }
    deal.refresh_from_db()
    assert deal.stage == DealStage.PROPOSAL


@pytest.mark.parametrize("stage", ["won", "nonsense", "qualification", ""])
def test_a_refused_json_move_is_a_400_with_the_field_error(client_for, rep, stage):
    deal = _deal(rep)
    response = client_for(rep).post(reverse("crm:deal-move", args=[deal.pk]), {"stage": stage}, **JSON)
    assert response.status_code == 400
    data = json.loads(response.content)
    assert data["errors"]["stage"] and "was not moved" in data["message"]
    deal.refresh_from_db()
    assert deal.stage == DealStage.QUALIFICATION


def test_a_refused_form_move_returns_to_the_board_with_the_error(client_for, rep):
    deal = _deal(rep)
    client = client_for(rep)
    response = client.post(reverse("crm:deal-move", args=[deal.pk]), {"stage": "qualification"}, follow=True)
    assert "was not moved: The deal is already in Qualification." in response.content.decode()


def test_a_move_returns_to_next_only_on_this_site(client_for, rep):
    deal = _deal(rep)
    client = client_for(rep)
    url = reverse("crm:deal-move", args=[deal.pk])
    assert client.post(url, {"stage": "proposal", "next": "/deals/?x=1"})["Location"] == "/deals/?x=1"
    assert client.post(url, {"stage": "discovery", "next": "https://evil.example/"})["Location"] == "/deals/"


def test_closing_won_from_the_board(client_for, rep):
    deal = _deal(rep)
    response = client_for(rep).post(reverse("crm:deal-close", args=[deal.pk]), {"result": "won"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == DealStage.WON
    assert Lead.objects.get(pk=deal.lead_id).stage == LifecycleStage.CUSTOMER


def test_the_close_page_without_javascript_shows_the_form(client_for, rep):
    deal = _deal(rep)
    response = client_for(rep).get(reverse("crm:deal-close", args=[deal.pk]), {"next": "javascript:alert(1)"})
    body = response.content.decode()
    assert response.status_code == 200
    assert f"Close “{deal.name}”" in body and 'name="lost_reason"' in body and "Price" in body
    assert "javascript:" not in body


def test_closing_lost_without_a_reason_shows_the_field_error_and_changes_nothing(client_for, rep):
    deal = _deal(rep)
    response = client_for(rep).post(reverse("crm:deal-close", args=[deal.pk]), {"result": "lost", "lost_reason": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(r'id="lost-reason-error-\d+">Say why the deal was lost', body)
    deal.refresh_from_db()
    assert deal.stage == DealStage.QUALIFICATION


def test_the_dialogs_form_comes_back_with_field_errors_and_success_is_json(client_for, rep):
    deal = _deal(rep)
    client = client_for(rep)
    url = reverse("crm:deal-close", args=[deal.pk]) + "?fragment=form"

    refused = client.post(url, {"result": "lost", "lost_reason": "other", "lost_note": ""})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert body.lstrip().startswith("<form") and "Describe the reason when it is &#x27;other&#x27;." in body
    assert "<html" not in body

    no_result = client.post(url, {})
    assert "Choose won or lost." in no_result.content.decode()

    done = client.post(url, {"result": "lost", "lost_reason": "price"})
    assert done.status_code == 200 and json.loads(done.content)["message"] == f"“{deal.name}” closed lost."
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason) == (DealStage.LOST, "price")


def test_closing_a_closed_deal_shows_the_error(client_for, rep):
    deal = _deal(rep)
    client = client_for(rep)
    client.post(reverse("crm:deal-close", args=[deal.pk]), {"result": "won"})
    response = client.post(reverse("crm:deal-close", args=[deal.pk]), {"result": "lost", "lost_reason": "price"})
    assert response.status_code == 400
    assert "already closed" in response.content.decode()


def test_another_reps_deal_is_not_found(client_for, rep, other_rep):
    deal = _deal(other_rep)
    client = client_for(rep)
    assert client.post(reverse("crm:deal-move", args=[deal.pk]), {"stage": "proposal"}).status_code == 404
    assert client.post(reverse("crm:deal-close", args=[deal.pk]), {"result": "won"}).status_code == 404
    assert client.get(reverse("crm:deal-close", args=[deal.pk])).status_code == 404


def test_marketing_has_no_deal_board(client_for, marketer):
    assert client_for(marketer).get(reverse("crm:deal-list")).status_code == 403


def test_a_manager_who_is_not_a_rep_works_from_the_team_board(client_for, manager):
    response = client_for(manager).get(reverse("crm:deal-list"))
    assert response.status_code == 302 and response["Location"] == reverse("crm:deal-team")
