"""Hand-off report numbers against a hand-made history."""

import datetime

import pytest
from django.utils import timezone

from crm.models import AssignmentStatus, DealStage, RejectReason
from leads.models import LeadSource, LifecycleStage
from tests.crm.factories import AssignmentFactory, DealFactory, SalesQueueFactory
from tests.leads.factories import LeadFactory, LeadTransitionFactory
from tests.reports.conftest import rows_by, run

H = datetime.timedelta(hours=1)


def qualified_and_handed_off(at, *, queue, rep, source=LeadSource.WEB_FORM, **assignment):
    lead = LeadFactory(source=source, stage=LifecycleStage.HANDED_OFF, qualified_at=at)
    LeadTransitionFactory(lead=lead, from_stage=LifecycleStage.ENGAGED, to_stage=LifecycleStage.MQL, at=at)
    return AssignmentFactory(lead=lead, queue=queue, rep=rep, handed_off_at=at, assigned_at=at, **assignment)


@pytest.fixture
def history(monday, rep, other_rep):
    queue, other_queue = SalesQueueFactory(name="EMEA"), SalesQueueFactory(name="US")
    m = monday
    a1 = qualified_and_handed_off(
        m, queue=queue, rep=rep, status=AssignmentStatus.ACCEPTED, first_touch_at=m + 1 * H, accepted_at=m + 2 * H
    )
    DealFactory(lead=a1.lead, stage=DealStage.WON, amount=1000, created_at=m + 24 * H, closed_at=m + 48 * H)
    qualified_and_handed_off(
        m,
        queue=queue,
        rep=other_rep,
        status=AssignmentStatus.REJECTED,
        first_touch_at=m + 3 * H,
        rejected_at=m + 4 * H,
        rejected_reason=RejectReason.NOT_A_FIT,
        sla_breached_at=m + 2 * H,
    )
    a3 = qualified_and_handed_off(
        m,
        queue=other_queue,
        rep=rep,
        source=LeadSource.EVENT,
        status=AssignmentStatus.ACCEPTED,
        first_touch_at=m + 5 * H,
        accepted_at=m + 6 * H,
    )
    DealFactory(lead=a3.lead, stage=DealStage.LOST, lost_reason="price", created_at=m + 30 * H, closed_at=m + 50 * H)
    # next week: one waiting in the queue, no rep yet
    qualified_and_handed_off(m + 7 * 24 * H, queue=queue, rep=None, status=AssignmentStatus.QUEUED, sla_due_at=None)
    # qualified but never handed off
    lead = LeadFactory(stage=LifecycleStage.MQL)
    LeadTransitionFactory(lead=lead, from_stage=LifecycleStage.ENGAGED, to_stage=LifecycleStage.MQL, at=m + 7 * 24 * H)
    return {"queue": queue, "other_queue": other_queue}


@pytest.mark.django_db
def test_weekly_counts_and_speeds_match_the_history(history, period, monday):
    weekly = rows_by(run("handoff", **period).table("weekly"), "week")
    week = weekly[monday.date()]
    assert week["qualified"] == 3
    assert week["handed_off"] == 3
    assert week["accepted"] == 2
    assert week["rejected"] == 1
    assert week["acceptance_rate"] == pytest.approx(2 / 3)
    # speed-to-lead 1h, 3h, 5h: median 3h; p90 interpolates 3 + 0.8 * 2 = 4.6h (percentile_cont)
    assert week["speed_median_h"] == pytest.approx(3.0)
    assert week["speed_p90_h"] == pytest.approx(4.6)
    # time to accept 2h and 6h: median 4h, p90 2 + 0.9 * 4 = 5.6h
    assert week["accept_median_h"] == pytest.approx(4.0)
    assert week["accept_p90_h"] == pytest.approx(5.6)
    assert week["breaches"] == 1
    assert week["deals"] == 2
    assert week["won"] == 1
    assert week["revenue"] == 1000

    next_week = weekly[monday.date() + datetime.timedelta(days=7)]
    assert (next_week["qualified"], next_week["handed_off"], next_week["accepted"]) == (2, 1, 0)
    assert next_week["speed_median_h"] is None
    previous_week = weekly[monday.date() - datetime.timedelta(days=7)]
    assert previous_week["handed_off"] == 0


@pytest.mark.django_db
def test_queue_rep_and_source_filters_narrow_the_hand_offs(history, period, monday, rep):
    by_queue = rows_by(run("handoff", **period, queue=history["queue"].pk).table("weekly"), "week")[monday.date()]
    assert (by_queue["handed_off"], by_queue["accepted"], by_queue["rejected"]) == (2, 1, 1)
    by_rep = rows_by(run("handoff", **period, rep=rep.pk).table("weekly"), "week")[monday.date()]
    assert (by_rep["handed_off"], by_rep["accepted"], by_rep["speed_median_h"]) == (2, 2, pytest.approx(3.0))
    by_source = rows_by(run("handoff", **period, source=LeadSource.EVENT).table("weekly"), "week")[monday.date()]
    assert (by_source["qualified"], by_source["handed_off"], by_source["deals"], by_source["won"]) == (1, 1, 1, 0)


@pytest.mark.django_db
def test_rejections_are_listed_by_reason(history, period):
    reasons = run("handoff", **period).table("rejections").rows
    assert reasons == [{"reason": "Not a fit", "rejected": 1}]


@pytest.mark.django_db
def test_queue_ageing_shows_the_oldest_waiting_lead(history, period):
    ageing = rows_by(run("handoff", **period).table("queue_ageing"), "queue")
    assert set(ageing) == {"EMEA"}
    assert ageing["EMEA"]["unassigned"] == 1
    assert ageing["EMEA"]["oldest_unassigned_h"] > 24


@pytest.mark.django_db
def test_queue_ageing_lists_the_mqls_no_queue_has_taken_with_a_drill_down(period, client_for, manager):
    now = timezone.now()
    stuck = [LeadFactory(stage=LifecycleStage.MQL, qualified_at=now - hours * H) for hours in (3, 1)]
    LeadFactory(stage=LifecycleStage.MQL, qualified_at=now - datetime.timedelta(minutes=1))  # hand-off still due
    LeadFactory(stage=LifecycleStage.HANDED_OFF, qualified_at=now - 5 * H)
    LeadFactory(stage=LifecycleStage.MQL, qualified_at=now - 5 * H, do_not_call=True)  # refused by design
    table = run("handoff", **period).table("queue_ageing")
    ageing = rows_by(table, "queue")
    row = ageing["(no queue has taken them)"]
    assert row["unassigned"] == 2 and row["oldest_unassigned_h"] == pytest.approx(3.0, abs=0.05)
    assert row["unaccepted"] is None
    assert "no queue's rules match them" in table.note
    link = table.links[table.rows.index(row)]["unassigned"]
    response = client_for(manager).get(link)
    assert response.status_code == 200
    assert {lead.pk for lead in response.context["cl"].result_list} == {lead.pk for lead in stuck}
    # A queue filter narrows to that queue: leads without one do not belong there.
    queue = SalesQueueFactory(name="EMEA")
    filtered = run("handoff", **period, queue=queue.pk).table("queue_ageing")
    assert "(no queue has taken them)" not in rows_by(filtered, "queue")
    assert "no queue's rules match them" not in filtered.note


@pytest.mark.django_db
def test_open_sla_breaches_list_overdue_untouched_assignments(period, rep):
    now = timezone.now()
    overdue = AssignmentFactory(rep=rep, handed_off_at=now - 5 * H, sla_due_at=now - 4 * H)
    AssignmentFactory(rep=rep, handed_off_at=now - 5 * H, sla_due_at=now - 4 * H, first_touch_at=now - 3 * H)
    AssignmentFactory(rep=rep, handed_off_at=now - H, sla_due_at=now + H)
    rows = run("handoff", **period).table("open_breaches").rows
    assert [r["lead"] for r in rows] == [str(overdue.lead)]
    assert rows[0]["overdue_h"] == pytest.approx(4.0, abs=0.1)


@pytest.mark.django_db
def test_drill_down_links_open_the_filtered_assignment_changelist(history, period, monday, client_for, manager):
    table = run("handoff", **period).table("weekly")
    index = [r["week"] for r in table.rows].index(monday.date())
    client = client_for(manager)
    for key, expected in (("handed_off", 3), ("accepted", 2), ("rejected", 1), ("breaches", 1)):
        response = client.get(table.links[index][key])
        assert response.status_code == 200, key
        assert response.context["cl"].result_count == expected, key
    qualified = client.get(table.links[index]["qualified"])
    assert qualified.context["cl"].result_count == 3
