"""Funnel report numbers against hand-made lead histories."""

import datetime

import pytest

from leads.models import LeadSource, LifecycleStage
from tests.crm.reports.conftest import rows_by, run
from tests.leads.factories import LeadFactory, LeadTransitionFactory

S = LifecycleStage
DAY = datetime.timedelta(days=1)


def lead_through(created, path, *, source=LeadSource.WEB_FORM):
    """A lead created at `created` that moved along `path` [(stage, days after creation), ...]."""
    lead = LeadFactory(created_at=created, source=source, stage=path[-1][0] if path else S.NEW)
    previous = S.NEW
    for stage, days in path:
        LeadTransitionFactory(lead=lead, from_stage=previous, to_stage=stage, at=created + days * DAY)
        previous = stage
    return lead


@pytest.fixture
def history(monday):
    lead_through(monday, [])  # stays new
    lead_through(monday, [(S.ENGAGED, 2)])
    lead_through(monday, [(S.ENGAGED, 1), (S.MQL, 3), (S.HANDED_OFF, 3), (S.SAL, 4)])
    lead_through(monday, [(S.MQL, 4), (S.HANDED_OFF, 4), (S.SAL, 5), (S.OPPORTUNITY, 6), (S.CUSTOMER, 10)])
    lead_through(monday, [(S.ENGAGED, 1), (S.MQL, 2), (S.HANDED_OFF, 2), (S.RECYCLED, 3)], source=LeadSource.EVENT)
    lead_through(monday + 7 * DAY, [(S.ENGAGED, 1)])


@pytest.mark.django_db
def test_each_cohort_counts_leads_reaching_each_stage_or_beyond(history, period, monday):
    cohorts = rows_by(run("funnel", **period).table("cohorts"), "week")
    week = cohorts[monday.date()]
    assert [week[s] for s in (S.NEW, S.ENGAGED, S.MQL, S.HANDED_OFF, S.SAL, S.OPPORTUNITY, S.CUSTOMER)] == [
        5,
        4,
        3,
        3,
        2,
        1,
        1,
    ]
    assert week["mql_rate"] == pytest.approx(3 / 5)
    assert week["accept_rate"] == pytest.approx(2 / 3)
    assert week["win_rate"] == pytest.approx(1 / 2)
    assert cohorts[monday.date() + 7 * DAY][S.ENGAGED] == 1
    assert cohorts["All weeks"][S.NEW] == 6


@pytest.mark.django_db
def test_time_in_stage_measures_each_stay(history, period):
    stages = rows_by(run("funnel", **period).table("time_in_stage"), "stage")
    # NEW stays: 2, 1, 4, 1 and 1 days (the lead still NEW has not left it) -> median 1
    assert stages["New"]["left"] == 5
    assert stages["New"]["median_days"] == pytest.approx(1.0)
    # ENGAGED stays: 2 (1 -> 3) and 1 (1 -> 2) -> median 1.5, p90 1 + 0.9 * 1 = 1.9
    assert stages["Engaged"]["median_days"] == pytest.approx(1.5)
    assert stages["Engaged"]["p90_days"] == pytest.approx(1.9)
    # OPPORTUNITY: one stay of 4 days
    assert stages["Opportunity"]["median_days"] == pytest.approx(4.0)


@pytest.mark.django_db
def test_the_source_filter_narrows_the_cohort(history, period, monday):
    week = rows_by(run("funnel", **period, source=LeadSource.EVENT).table("cohorts"), "week")[monday.date()]
    assert (week[S.NEW], week[S.HANDED_OFF], week[S.SAL]) == (1, 1, 0)


@pytest.mark.django_db
def test_time_in_stage_samples_a_very_large_cohort_by_lead_id(history, period, monkeypatch):
    from crm.reports import funnel

    monkeypatch.setattr(funnel, "TIME_IN_STAGE_SAMPLE", 2)
    table = run("funnel", **period).table("time_in_stage")
    assert "from 1 in 3 of the cohort's leads" in table.note
    measured = rows_by(table, "stage")["New"]["left"]
    assert 0 < measured < 5
