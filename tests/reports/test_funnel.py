"""Funnel report numbers against hand-made lead histories."""

import datetime

import pytest
from django.utils import timezone

from leads.models import Lead, LeadSource, LifecycleStage
from reports.models import FunnelRollup, ReportRollupRun
from reports.services import funnel_rollup_refresh
from tests.leads.factories import LeadFactory, LeadTransitionFactory
from tests.reports.conftest import rows_by, run

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
    from reports.selectors import funnel

    monkeypatch.setattr(funnel, "TIME_IN_STAGE_SAMPLE", 2)
    table = run("funnel", **period).table("time_in_stage")
    assert "from 1 in 3 of the cohort's leads" in table.note
    measured = rows_by(table, "stage")["New"]["left"]
    assert 0 < measured < 5


# --- the rollup --------------------------------------------------------------------------------


def cohort_rows(**params):
    table = run("funnel", **params).table("cohorts")
    return table.rows, table.note


@pytest.fixture
def wide_history(history, monday):
    """`history` plus leads on other days and sources, one sent back twice after re-entering."""
    lead_through(monday - 5 * DAY, [(S.ENGAGED, 1), (S.MQL, 2)], source=LeadSource.REFERRAL)
    lead_through(monday + 3 * DAY, [(S.MQL, 1), (S.HANDED_OFF, 1), (S.DISQUALIFIED, 2)], source=LeadSource.EVENT)
    lead_through(
        monday + 9 * DAY,
        [(S.ENGAGED, 0), (S.MQL, 1), (S.HANDED_OFF, 1), (S.RECYCLED, 2), (S.ENGAGED, 3), (S.RECYCLED, 4)],
    )
    lead_through(monday + 13 * DAY, [], source=LeadSource.REFERRAL)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "days, source",
    [
        ((-7, 13), ""),  # whole weeks
        ((-3, 10), ""),  # starts and ends mid-week
        ((2, 9), LeadSource.EVENT),
        ((-7, 13), LeadSource.REFERRAL),
    ],
)
def test_the_rollup_gives_the_same_table_as_the_live_count(wide_history, monday, days, source):
    params = {
        "date_from": (monday.date() + days[0] * DAY).isoformat(),
        "date_to": (monday.date() + days[1] * DAY).isoformat(),
        "source": source,
    }
    live_rows, live_note = cohort_rows(**params)
    funnel_rollup_refresh()
    rolled_rows, rolled_note = cohort_rows(**params)
    assert live_note.startswith("Counted live")
    assert rolled_note.startswith("Stage counts as of")
    assert rolled_rows == live_rows
    assert any(row[S.NEW] for row in rolled_rows)


@pytest.mark.django_db
def test_the_rollup_counts_a_lead_sent_back_twice_at_its_furthest_stage(wide_history, monday):
    funnel_rollup_refresh()
    week = rows_by(
        run(
            "funnel", date_from=(monday.date() + 7 * DAY).isoformat(), date_to=(monday.date() + 13 * DAY).isoformat()
        ).table("cohorts"),
        "week",
    )[monday.date() + 7 * DAY]
    # the engaged lead of `history`, the lead handed off before its two send-backs, and a new one
    assert (week[S.NEW], week[S.ENGAGED], week[S.MQL], week[S.HANDED_OFF], week[S.SAL]) == (3, 2, 1, 1, 0)


@pytest.mark.django_db
def test_the_rollup_shows_changes_only_after_its_next_rebuild(history, period, monday):
    funnel_rollup_refresh()
    lead_through(monday, [(S.ENGAGED, 1)])
    before = rows_by(run("funnel", **period).table("cohorts"), "week")[monday.date()][S.NEW]
    funnel_rollup_refresh()
    after = rows_by(run("funnel", **period).table("cohorts"), "week")[monday.date()][S.NEW]
    assert (before, after) == (5, 6)
    assert FunnelRollup.objects.filter(furthest=0).count() >= 1  # rebuilt whole, not added to


@pytest.mark.django_db
@pytest.mark.parametrize("filter_name", ["segment", "campaign"])
def test_segment_and_campaign_filters_are_counted_live(history, period, monday, filter_name):
    from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
    from tests.leads.factories import SegmentFactory

    funnel_rollup_refresh()
    lead = lead_through(monday, [(S.ENGAGED, 1)], source=LeadSource.PARTNER)  # after the rebuild
    if filter_name == "segment":
        Lead.objects.filter(pk=lead.pk).update(industry="retail")
        value = SegmentFactory(definition={"all": [{"field": "industry", "op": "eq", "value": "retail"}]}).pk
    else:
        value = CampaignFactory().pk
        CampaignMemberFactory(campaign_id=value, lead=lead)
    table = run("funnel", **period, **{filter_name: value}).table("cohorts")
    assert table.note.startswith("Counted live")
    assert rows_by(table, "week")[monday.date()][S.ENGAGED] == 1


@pytest.mark.django_db
def test_a_stale_rollup_or_one_in_another_time_zone_is_not_used(history, period, settings):
    run_row = funnel_rollup_refresh()
    run_row.refreshed_at -= datetime.timedelta(minutes=settings.REPORTS_FUNNEL_ROLLUP_MAX_AGE_MINUTES + 1)
    run_row.save()
    assert run("funnel", **period).table("cohorts").note.startswith("Counted live")
    funnel_rollup_refresh()
    ReportRollupRun.objects.update(time_zone="Pacific/Auckland")
    assert run("funnel", **period).table("cohorts").note.startswith("Counted live")


@pytest.mark.django_db
def test_the_beat_task_rebuilds_the_rollup(history):
    from reports.tasks import funnel_rollup_refresh_task

    funnel_rollup_refresh_task()
    funnel_rollup_refresh_task()
    assert sum(FunnelRollup.objects.values_list("leads", flat=True)) == Lead.objects.count() == 6
    assert ReportRollupRun.objects.get().time_zone == timezone.get_current_timezone_name()
