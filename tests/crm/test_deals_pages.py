"""The rep's deal board: open deals by stage with amounts, moving and closing."""

import pytest
from django.urls import reverse

from crm.models import OPEN_DEAL_STAGES, Deal, DealStage
from crm.services.deals import deal_convert
from leads.models import Lead, LifecycleStage
from tests.crm.factories import DealFactory
from tests.crm.sales_fixtures import accepted_lead

pytestmark = pytest.mark.django_db


def _deal(rep, amount="1000"):
    assignment = accepted_lead(rep)
    return deal_convert(lead_id=assignment.lead_id, actor=rep, amount=amount)


def test_the_board_shows_open_deals_by_stage_with_totals(client_for, rep, other_rep):
    first = _deal(rep, "1000")
    second = _deal(rep, "250.50")
    Deal.objects.filter(pk=second.pk).update(stage=DealStage.PROPOSAL)
    foreign = DealFactory(owner=other_rep, name="Not yours")

    body = client_for(rep).get(reverse("crm:deal-list")).content.decode()

    assert first.name in body and second.name in body
    assert foreign.name not in body
    assert "Qualification (1)" in body and "Proposal (1)" in body
    assert "1000.00" in body and "250.50" in body


@pytest.mark.parametrize("deals", [1, 20])
def test_the_board_runs_a_constant_number_of_queries(client_for, rep, django_assert_num_queries, deals):
    for i in range(deals):
        DealFactory(owner=rep, stage=OPEN_DEAL_STAGES[i % len(OPEN_DEAL_STAGES)])
        DealFactory(owner=rep, stage=DealStage.WON, closed_at="2026-01-01T00:00:00Z")
    client = client_for(rep)
    # session, user, groups, open deals, recently closed deals
    with django_assert_num_queries(5):
        response = client.get(reverse("crm:deal-list"))
    assert response.status_code == 200


def test_moving_a_deal_from_the_board(client_for, rep):
    deal = _deal(rep)
    response = client_for(rep).post(reverse("crm:deal-move", args=[deal.pk]), {"stage": "negotiation"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == DealStage.NEGOTIATION


def test_closing_won_from_the_board(client_for, rep):
    deal = _deal(rep)
    response = client_for(rep).post(reverse("crm:deal-close", args=[deal.pk]), {"result": "won"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == DealStage.WON
    assert Lead.objects.get(pk=deal.lead_id).stage == LifecycleStage.CUSTOMER


def test_closing_lost_without_a_reason_shows_the_error_and_changes_nothing(client_for, rep):
    deal = _deal(rep)
    response = client_for(rep).post(reverse("crm:deal-close", args=[deal.pk]), {"result": "lost", "lost_reason": ""})
    assert response.status_code == 400
    assert "Say why the deal was lost" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == DealStage.QUALIFICATION


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


def test_marketing_has_no_deal_board(client_for, marketer):
    assert client_for(marketer).get(reverse("crm:deal-list")).status_code == 403
