"""The manager's team board and forecast: who may open them, the filters (and bad filter input
as field errors, never a 500), constant queries, and forecast figures against a recomputation."""

import datetime
import random
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.deal_selectors import deal_forecast, stage_odds
from crm.models import OPEN_DEAL_STAGES, AssignmentStatus, DealStage, DealStageProbability
from tests.crm.factories import DealFactory, SalesQueueFactory
from tests.crm.sales_fixtures import assigned_lead

pytestmark = pytest.mark.django_db

TEAM, FORECAST = reverse("crm:deal-team"), reverse("crm:deal-forecast")


def _aware(y, m, d, h=12):
    return timezone.make_aware(datetime.datetime(y, m, d, h))


def _queued_deal(rep, queue, **fields):
    """A deal converted from a lead ``rep`` accepted in ``queue``."""
    lead = assigned_lead(rep, status=AssignmentStatus.ACCEPTED, queue=queue).lead
    return DealFactory(owner=rep, lead=lead, **fields)


# --- Who may open them ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", [TEAM, FORECAST])
def test_anonymous_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", [TEAM, FORECAST])
@pytest.mark.parametrize("role", ["rep", "other_rep", "marketer"])
def test_reps_and_marketing_are_refused(client_for, request, url, role):
    assert client_for(request.getfixturevalue(role)).get(url).status_code == 403


def test_the_manager_sees_every_reps_deals_with_the_owner(client_for, manager, rep, other_rep):
    mine = DealFactory(owner=rep, stage=DealStage.DISCOVERY, name="Rep A deal")
    theirs = DealFactory(owner=other_rep, stage=DealStage.PROPOSAL, name="Rep B deal")

    body = client_for(manager).get(TEAM).content.decode()

    assert f'id="deal-{mine.pk}"' in body and f'id="deal-{theirs.pk}"' in body
    assert "rep_a" in body and "rep_b" in body


def test_a_rep_sees_only_their_own_deals_on_their_board(client_for, rep, other_rep):
    theirs = DealFactory(owner=other_rep, stage=DealStage.PROPOSAL)
    body = client_for(rep).get(reverse("crm:deal-list")).content.decode()
    assert f'id="deal-{theirs.pk}"' not in body


def test_the_manager_can_move_and_close_any_reps_deal(client_for, manager, rep):
    deal = DealFactory(owner=rep, stage=DealStage.DISCOVERY)
    client = client_for(manager)
    move = client.post(reverse("crm:deal-move", args=[deal.pk]), {"stage": "proposal", "next": TEAM + "?rep=1"})
    assert move.status_code == 302 and move["Location"] == TEAM + "?rep=1"
    assert client.get(reverse("crm:deal-close", args=[deal.pk])).status_code == 200


# --- Filters -------------------------------------------------------------------------------------


def test_the_team_board_filters_by_rep(client_for, manager, rep, other_rep):
    mine = DealFactory(owner=rep, stage=DealStage.DISCOVERY)
    theirs = DealFactory(owner=other_rep, stage=DealStage.DISCOVERY)

    body = client_for(manager).get(TEAM, {"rep": rep.pk}).content.decode()

    assert f'id="deal-{mine.pk}"' in body and f'id="deal-{theirs.pk}"' not in body


def test_the_team_board_filters_by_the_queue_the_deals_lead_came_through(client_for, manager, rep):
    east, west = SalesQueueFactory(name="East"), SalesQueueFactory(name="West")
    in_east = _queued_deal(rep, east, stage=DealStage.PROPOSAL)
    in_west = _queued_deal(rep, west, stage=DealStage.PROPOSAL)
    no_lead = DealFactory(owner=rep, stage=DealStage.PROPOSAL)

    body = client_for(manager).get(TEAM, {"queue": east.pk}).content.decode()

    assert f'id="deal-{in_east.pk}"' in body
    assert f'id="deal-{in_west.pk}"' not in body and f'id="deal-{no_lead.pk}"' not in body


BAD_FILTERS = [
    ({"rep": "abc"}, "rep", "Choose a rep from the list"),
    ({"rep": "99999999999999999999999999"}, "rep", "Choose a rep from the list"),
    ({"rep": "-1"}, "rep", "Choose a rep from the list"),
    ({"queue": "1e5"}, "queue", "Choose a queue from the list"),
    ({"queue": "9223372036854775808"}, "queue", "Choose a queue from the list"),
]


@pytest.mark.parametrize("url", [TEAM, FORECAST])
@pytest.mark.parametrize(("params", "field", "message"), BAD_FILTERS)
def test_bad_filter_input_is_a_field_error_not_a_500(client_for, manager, url, params, field, message):
    response = client_for(manager).get(url, params)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="{field}-error">{message}' in body


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2026-13"}, "start", "Enter a month as YYYY-MM"),
        ({"start": "yesterday"}, "start", "Enter a month as YYYY-MM"),
        ({"start": "9999-01"}, "start", "Choose a month between 2000 and 2100."),
        ({"currency": "EURO"}, "currency", "Use a three-letter currency code"),
        ({"currency": "€€€"}, "currency", "Use a three-letter currency code"),
    ],
)
def test_bad_forecast_input_is_a_field_error(client_for, manager, params, field, message):
    response = client_for(manager).get(FORECAST, params)
    assert response.status_code == 400
    assert f'id="{field}-error">{message}' in response.content.decode()


@pytest.mark.parametrize("url", [TEAM, FORECAST, reverse("crm:deal-list")])
def test_a_nul_byte_in_a_filter_is_a_clear_400(client_for, manager, rep, url):
    user = rep if url == reverse("crm:deal-list") else manager
    response = client_for(user).get(url + "?rep=1%00")
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


# --- Queries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("deals", [1, 25])
def test_the_team_board_runs_a_constant_number_of_queries(
    client_for, manager, rep, other_rep, django_assert_num_queries, deals
):
    queue = SalesQueueFactory()
    for i in range(deals):
        _queued_deal([rep, other_rep][i % 2], queue, stage=OPEN_DEAL_STAGES[i % 4])
        DealFactory(owner=rep, stage=DealStage.LOST, lost_reason="price", closed_at=_aware(2026, 1, 5))
    client = client_for(manager)
    # session, user, groups, reps, queues, probabilities, open deals, closed deals
    with django_assert_num_queries(8):
        response = client.get(TEAM, {"queue": queue.pk})
    assert response.status_code == 200 and response.context["board"].count == deals


@pytest.mark.parametrize("deals", [1, 25])
def test_the_forecast_runs_a_constant_number_of_queries(client_for, manager, rep, django_assert_num_queries, deals):
    for i in range(deals):
        DealFactory(owner=rep, stage=OPEN_DEAL_STAGES[i % 4], expected_close_on=datetime.date(2026, 1 + i % 12, 3))
        DealFactory(owner=rep, stage=DealStage.WON, closed_at=_aware(2026, 1 + i % 12, 9))
    client = client_for(manager)
    # session, user, groups, reps, queues, probabilities, open deals, won deals
    with django_assert_num_queries(8):
        response = client.get(FORECAST, {"start": "2026-01", "rep": rep.pk})
    assert response.status_code == 200 and response.context["total"].won_count == deals


# --- Forecast figures ----------------------------------------------------------------------------


def _recompute(deals, *, start, months, currency, odds):
    """The forecast's definition, one deal at a time in Python."""

    def month_key(day):
        first = day.replace(day=1)
        end = datetime.date(start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1, 1)
        if first < start:
            return "before"
        if first >= end:
            return "later"
        return f"{first:%Y-%m}"

    out = {}
    for deal in deals:
        if deal.currency != currency:
            continue
        if deal.stage == DealStage.WON:
            key = month_key(timezone.localtime(deal.closed_at).date())
            if key in ("before", "later"):
                continue
        elif deal.stage in OPEN_DEAL_STAGES:
            key = month_key(deal.expected_close_on) if deal.expected_close_on else "undated"
        else:
            continue
        row = out.setdefault(key, {"committed": Decimal(0), "weighted": Decimal(0), "best_case": Decimal(0)})
        if deal.stage == DealStage.WON:
            for name in row:
                row[name] += deal.amount
        else:
            row["best_case"] += deal.amount
            row["weighted"] += deal.amount * Decimal(odds[deal.stage].probability) / 100
            if odds[deal.stage].is_commit:
                row["committed"] += deal.amount
    return out


def test_forecast_figures_match_a_python_recomputation(manager, rep, other_rep, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # months of won deals are the local calendar's
    DealStageProbability.objects.filter(stage=DealStage.PROPOSAL).update(probability=35, is_commit=True)
    rng = random.Random(14)
    deals = []
    for _ in range(120):
        stage = rng.choice([*OPEN_DEAL_STAGES, DealStage.WON, DealStage.LOST])
        fields = {
            "owner": rng.choice([rep, other_rep]),
            "stage": stage,
            "amount": Decimal(rng.randint(0, 5_000_000)) / 100,
            "currency": rng.choice(["EUR", "EUR", "EUR", "USD"]),
        }
        if stage in OPEN_DEAL_STAGES:
            fields["expected_close_on"] = (
                None
                if rng.random() < 0.1
                else datetime.date(2025, 10, 1) + datetime.timedelta(days=rng.randint(0, 600))
            )
        else:
            fields["closed_at"] = _aware(2025, 11, 1, 0) + datetime.timedelta(hours=rng.randint(0, 24 * 500))
            fields["lost_reason"] = "price" if stage == DealStage.LOST else ""
        deals.append(DealFactory(**fields))
    late_in_march_utc = datetime.datetime(2026, 3, 31, 23, 30, tzinfo=datetime.UTC)  # 1 April in Berlin
    deals.append(DealFactory(owner=rep, stage=DealStage.WON, amount=777, closed_at=late_in_march_utc))
    start = datetime.date(2026, 1, 1)

    for currency in ("EUR", "USD"):
        forecast = deal_forecast(user=manager, start=start, currency=currency)
        expected = _recompute(deals, start=start, months=12, currency=currency, odds=stage_odds())
        got = {
            b.key: {"committed": b.committed, "weighted": b.weighted, "best_case": b.best_case}
            for b in forecast.buckets
            if b.best_case or b.committed
        }
        assert got == expected
        assert forecast.currencies == ["EUR", "USD"]

    only_rep = deal_forecast(user=manager, start=start, rep_id=rep.pk, currency="EUR")
    expected = _recompute(
        [d for d in deals if d.owner_id == rep.pk], start=start, months=12, currency="EUR", odds=stage_odds()
    )
    assert {b.key: b.best_case for b in only_rep.buckets if b.best_case} == {
        k: v["best_case"] for k, v in expected.items() if v["best_case"]
    }


def test_the_forecast_page_shows_each_months_figures_and_a_chart(client_for, manager, rep):
    DealFactory(owner=rep, stage=DealStage.WON, amount=1000, closed_at=_aware(2026, 3, 10))
    DealFactory(owner=rep, stage=DealStage.NEGOTIATION, amount=2000, expected_close_on=datetime.date(2026, 3, 20))
    DealFactory(owner=rep, stage=DealStage.QUALIFICATION, amount=10000, expected_close_on=datetime.date(2026, 3, 1))
    DealFactory(owner=rep, stage=DealStage.LOST, amount=999999, lost_reason="price", closed_at=_aware(2026, 3, 2))

    response = client_for(manager).get(FORECAST, {"start": "2026-02"})
    body = response.content.decode()

    march = response.context["forecast"].buckets[2]
    assert march.key == "2026-03"
    # committed 1,000 + 2,000; weighted 1,000 + 75 % of 2,000 + 10 % of 10,000; best case all
    assert (march.committed, march.weighted, march.best_case) == (Decimal(3000), Decimal(3500), Decimal(13000))
    row = body[body.index('id="month-2026-03"') :].split("</tr>")[0]
    assert "€3,000<" in row and "€3,500<" in row and "€13,000<" in row
    assert '<svg class="chart forecast-chart"' in body and body.count('<rect class="best_case"') == 12
    assert "Committed</dt>" in body and "Negotiation" in body and "Best case</dt>" in body
    assert "Feb 2026 to Jan 2027" in body


def test_the_forecast_counts_open_deals_past_their_date_before_the_window(client_for, manager, rep):
    DealFactory(owner=rep, stage=DealStage.PROPOSAL, amount=500, expected_close_on=datetime.date(2025, 6, 1))
    DealFactory(owner=rep, stage=DealStage.PROPOSAL, amount=700, expected_close_on=None)

    forecast = client_for(manager).get(FORECAST, {"start": "2026-01"}).context["forecast"]

    by_key = {b.key: b for b in forecast.buckets}
    assert by_key["before"].best_case == 500 and by_key["before"].label == "Before Jan 2026"
    assert by_key["undated"].best_case == 700


def test_the_forecast_filters_by_queue(client_for, manager, rep):
    east, west = SalesQueueFactory(), SalesQueueFactory()
    _queued_deal(rep, east, stage=DealStage.PROPOSAL, amount=100, expected_close_on=datetime.date(2026, 5, 5))
    _queued_deal(rep, west, stage=DealStage.PROPOSAL, amount=300, expected_close_on=datetime.date(2026, 5, 5))

    response = client_for(manager).get(FORECAST, {"start": "2026-05", "queue": east.pk})

    assert response.context["total"].best_case == 100


# --- Every deal route, every role ----------------------------------------------------------------

LOGIN, OK, FORBIDDEN, NOT_FOUND, REDIRECT = "login", 200, 403, 404, 302

# route name, method: anonymous, rep (owns the deal), other rep, marketer, manager
ROUTES = {
    ("crm:deal-list", "GET"): (LOGIN, OK, OK, FORBIDDEN, REDIRECT),
    ("crm:deal-team", "GET"): (LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    ("crm:deal-forecast", "GET"): (LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    ("crm:deal-close", "GET"): (LOGIN, OK, NOT_FOUND, FORBIDDEN, OK),
    ("crm:deal-close", "POST"): (LOGIN, OK, NOT_FOUND, FORBIDDEN, OK),
    ("crm:deal-move", "POST"): (LOGIN, OK, NOT_FOUND, FORBIDDEN, OK),
}
ROLES = ("anonymous", "rep", "other_rep", "marketer", "manager")


@pytest.mark.parametrize(("route", "method"), list(ROUTES))
@pytest.mark.parametrize("role", ROLES)
def test_each_deal_route_answers_each_role_as_the_table_says(client, request, rep, route, method, role):
    deal = DealFactory(owner=rep, stage=DealStage.DISCOVERY, name="Rep A's secret deal")
    args = [deal.pk] if route in ("crm:deal-close", "crm:deal-move") else []
    if role != "anonymous":
        client.force_login(rep if role == "rep" else request.getfixturevalue(role))
    url = reverse(route, args=args)
    data = {"stage": "proposal"} if route == "crm:deal-move" else {"result": "won"}
    response = client.get(url) if method == "GET" else client.post(url, data, HTTP_ACCEPT="application/json")

    expected = ROUTES[(route, method)][ROLES.index(role)]
    if expected == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == expected
    if route == "crm:deal-list" and role in ("rep", "other_rep"):
        assert ("Rep A&#x27;s secret deal" in response.content.decode()) == (role == "rep")
