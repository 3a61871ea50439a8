"""Scoring calibration, rep activity and customer experience numbers against hand-made histories."""

import datetime

import pytest

from crm.models import CallOutcome
from leads.models import LifecycleStage
from tests.campaigns.factories import CampaignFactory, CustomerFeedbackFactory
from tests.crm.factories import AssignmentFactory, CallFactory
from tests.leads.factories import LeadFactory, LeadTransitionFactory
from tests.reports.conftest import rows_by, run

S = LifecycleStage
H = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def calibration_history(monday):
    outcomes = {100: ("sal", "won"), 90: ("sal", "won"), 80: ("sal", "lost"), 70: ("rejected",)}
    for score in range(10, 101, 10):
        lead = LeadFactory(score=score)
        LeadTransitionFactory(lead=lead, from_stage=S.MQL, to_stage=S.HANDED_OFF, at=monday)
        steps = outcomes.get(score, ())
        if "sal" in steps:
            LeadTransitionFactory(lead=lead, from_stage=S.HANDED_OFF, to_stage=S.SAL, at=monday + H)
        if "won" in steps:
            LeadTransitionFactory(
                lead=lead, from_stage=S.OPPORTUNITY, to_stage=S.CUSTOMER, reason="won", at=monday + DAY
            )
        if "lost" in steps:
            LeadTransitionFactory(
                lead=lead, from_stage=S.OPPORTUNITY, to_stage=S.RECYCLED, reason="lost:price", at=monday + DAY
            )
        if "rejected" in steps:
            LeadTransitionFactory(
                lead=lead, from_stage=S.HANDED_OFF, to_stage=S.RECYCLED, reason="rejected:not_a_fit", at=monday + H
            )
    # handed off before the period: not in the population
    old = LeadFactory(score=100)
    LeadTransitionFactory(lead=old, from_stage=S.MQL, to_stage=S.HANDED_OFF, at=monday - 60 * DAY)


@pytest.mark.django_db
def test_deciles_rank_leads_by_score_with_lift(calibration_history, period):
    table = run("calibration", **period).table("deciles")
    deciles = rows_by(table, "decile")
    assert len(table.rows) == 10
    assert deciles["1"]["score_range"] == "100 – 100"
    assert (deciles["1"]["accepted"], deciles["1"]["won"], deciles["1"]["win_rate"]) == (1, 1, 1.0)
    # overall win rate 2 / 3, so a decile that always wins has lift 1.5
    assert deciles["1"]["lift"] == pytest.approx(1.5)
    assert deciles["3"]["win_rate"] == 0 and deciles["3"]["lift"] == 0
    assert (deciles["4"]["rejected"], deciles["4"]["acceptance_rate"]) == (1, 0)
    assert deciles["10"]["acceptance_rate"] is None


@pytest.fixture
def activity_history(monday, rep, other_rep):
    for outcome in (CallOutcome.CONNECTED, CallOutcome.MEETING_BOOKED, CallOutcome.NO_ANSWER):
        CallFactory(rep=rep, outcome=outcome, called_at=monday)
    CallFactory(rep=other_rep, outcome=CallOutcome.NO_ANSWER, called_at=monday + DAY)
    CallFactory(rep=rep, called_at=monday - 60 * DAY)  # outside the period
    AssignmentFactory(rep=rep, handed_off_at=monday, first_touch_at=monday + H, accepted_at=monday + 2 * H)
    AssignmentFactory(rep=rep, handed_off_at=monday, first_touch_at=monday + 3 * H)


@pytest.mark.django_db
def test_rep_activity_per_rep(activity_history, period, rep, other_rep):
    rows = rows_by(run("rep-activity", **period).table("reps"), "rep")
    mine = rows[rep.username]
    # 3 calls over the 15 working days of the three-week period
    assert (mine["calls"], mine["calls_per_day"]) == (3, pytest.approx(0.2))
    assert mine["connect_rate"] == pytest.approx(2 / 3)
    assert (mine["meetings"], mine["received"], mine["accepted"]) == (1, 2, 1)
    assert (mine["speed_median_h"], mine["speed_p90_h"]) == (pytest.approx(2.0), pytest.approx(2.8))
    assert rows[other_rep.username]["connect_rate"] == 0


@pytest.mark.django_db
def test_rep_activity_counts_calls_per_week(activity_history, period, monday):
    weekly = rows_by(run("rep-activity", **period).table("weekly"), "week")
    assert (weekly[monday.date()]["calls"], weekly[monday.date()]["connected"]) == (4, 2)


@pytest.mark.django_db
def test_the_rep_filter_keeps_one_rep(activity_history, period, rep):
    rows = run("rep-activity", **period, rep=rep.pk).table("reps").rows
    assert [r["rep"] for r in rows] == [rep.username]


@pytest.fixture
def feedback_history(monday):
    survey = CampaignFactory(name="Q3 survey")
    for rating in (10, 9, 7, 3):
        CustomerFeedbackFactory(rating=rating, created_at=monday, campaign=survey if rating >= 9 else None)
    CustomerFeedbackFactory(rating=5, created_at=monday + 7 * DAY)


@pytest.mark.django_db
def test_nps_per_week_and_overall(feedback_history, period, monday):
    weekly = rows_by(run("customer-experience", **period).table("weekly"), "label")
    week = weekly[monday.date()]
    assert (week["responses"], week["promoters"], week["passives"], week["detractors"]) == (4, 2, 1, 1)
    assert week["nps"] == pytest.approx(25.0)
    assert week["average"] == pytest.approx(7.25)
    assert weekly[monday.date() + 7 * DAY]["nps"] == pytest.approx(-100.0)
    assert weekly["All weeks"]["responses"] == 5
    assert weekly["All weeks"]["nps"] == pytest.approx(0.0)


@pytest.mark.django_db
def test_nps_by_campaign(feedback_history, period):
    campaigns = rows_by(run("customer-experience", **period).table("campaigns"), "label")
    assert campaigns["Q3 survey"]["nps"] == pytest.approx(100.0)
    assert campaigns["(no campaign)"]["responses"] == 3
