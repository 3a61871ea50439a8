"""Every linked number on the hand-off and funnel pages opens a changelist of exactly that
many rows, with each filter applied; the queue-ageing figures say what they count; a week cut
by the date filter says so."""

import datetime

import pytest
from django.utils import timezone

from crm.models import AssignmentStatus, RejectReason
from leads.models import Lead, LeadSource, LifecycleStage
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.crm.factories import AssignmentFactory, SalesQueueFactory
from tests.leads.factories import SegmentFactory
from tests.reports.conftest import run
from tests.reports.test_funnel import lead_through

S = LifecycleStage
H = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def assert_every_link_counts_its_number(client, result):
    checked = 0
    for table in result.tables:
        for row, row_links in zip(table.rows, table.links, strict=False):
            for key, url in row_links.items():
                if not isinstance(row.get(key), int) or not row[key]:
                    continue  # a zero is shown without a link; a name links to its one row
                response = client.get(url)
                assert response.status_code == 200, url
                assert response.context["cl"].result_count == row[key], (table.key, row.get("week"), key, url)
                checked += 1
    return checked


@pytest.fixture
def funnel_history(monday):
    retail = {"industry": "retail"}
    leads = [
        lead_through(monday, []),
        lead_through(monday, [(S.ENGAGED, 2)]),
        lead_through(monday, [(S.ENGAGED, 1), (S.MQL, 3), (S.HANDED_OFF, 3), (S.SAL, 4)]),
        lead_through(monday, [(S.MQL, 4), (S.HANDED_OFF, 4), (S.SAL, 5), (S.OPPORTUNITY, 6), (S.CUSTOMER, 10)]),
        lead_through(monday, [(S.ENGAGED, 1), (S.MQL, 2), (S.HANDED_OFF, 2), (S.RECYCLED, 3)]),
        lead_through(monday, [(S.MQL, 1), (S.HANDED_OFF, 1), (S.RECYCLED, 2), (S.ENGAGED, 3)], source=LeadSource.EVENT),
        lead_through(monday, [(S.DISQUALIFIED, 1)]),
        lead_through(monday + 7 * DAY, [(S.ENGAGED, 1), (S.MQL, 2)]),
    ]
    Lead.objects.filter(pk__in=[leads[2].pk, leads[4].pk, leads[5].pk]).update(**retail)
    campaign = CampaignFactory()
    for lead in leads[3:6]:
        CampaignMemberFactory(campaign=campaign, lead=lead)
    segment = SegmentFactory(definition={"all": [{"field": "industry", "op": "eq", "value": "retail"}]})
    return {"segment": segment.pk, "campaign": campaign.pk}


@pytest.mark.django_db
@pytest.mark.parametrize("split", [None, "source", "segment", "campaign"])
def test_every_funnel_cell_links_to_exactly_the_leads_it_counts(funnel_history, period, client_for, manager, split):
    filters = {}
    if split == "source":
        filters = {"source": LeadSource.EVENT}
    elif split:
        filters = {split: funnel_history[split]}
    result = run("funnel", **period, **filters)
    cohorts = result.table("cohorts")
    week = cohorts.rows[1]
    linked = cohorts.links[1]
    later = [s for s in (S.ENGAGED, S.MQL, S.HANDED_OFF, S.SAL) if week[s]]
    assert later, "the cohort reaches past NEW"
    assert all(linked.get(s) for s in later), "each stage, not only NEW, has its drill-down"
    assert assert_every_link_counts_its_number(client_for(manager), result) >= len(later) + 1


@pytest.fixture
def handoff_history(monday, rep, other_rep):
    queue, other = SalesQueueFactory(name="EMEA"), SalesQueueFactory(name="US")
    campaign = CampaignFactory()
    for i in range(6):
        at = monday + i * DAY
        lead = lead_through(at, [(S.MQL, 0)], source=LeadSource.EVENT if i % 2 else LeadSource.WEB_FORM)
        status = [AssignmentStatus.ACCEPTED, AssignmentStatus.REJECTED, AssignmentStatus.ASSIGNED][i % 3]
        first = AssignmentFactory(
            lead=lead, queue=queue, rep=other_rep, handed_off_at=at, status=AssignmentStatus.REASSIGNED
        )
        assert first.pk
        AssignmentFactory(
            lead=lead,
            queue=other if i % 2 else queue,
            rep=rep,
            handed_off_at=at + H,
            status=status,
            first_touch_at=at + 2 * H,
            accepted_at=at + 3 * H if status == AssignmentStatus.ACCEPTED else None,
            rejected_at=at + 3 * H if status == AssignmentStatus.REJECTED else None,
            rejected_reason=RejectReason.NOT_A_FIT if status == AssignmentStatus.REJECTED else "",
            sla_breached_at=at + 2 * H if i % 2 else None,
        )
        if i < 3:
            CampaignMemberFactory(campaign=campaign, lead=lead)
    return {"campaign": campaign.pk, "queue": queue.pk}


@pytest.mark.django_db
@pytest.mark.parametrize("split", [None, "source", "campaign", "queue", "rep"])
def test_every_hand_off_number_links_to_exactly_its_rows(handoff_history, period, client_for, manager, rep, split):
    filters = {
        None: {},
        "source": {"source": LeadSource.EVENT},
        "campaign": {"campaign": handoff_history["campaign"]},
        "queue": {"queue": handoff_history["queue"]},
        "rep": {"rep": rep.pk},
    }[split]
    result = run("handoff", **period, **filters)
    weekly = result.table("weekly")
    assert any(row["handed_off"] for row in weekly.rows)
    assert assert_every_link_counts_its_number(client_for(manager), result) >= 3


@pytest.mark.django_db
def test_queue_ageing_tells_called_leads_from_uncalled_ones_and_counts_the_open_breaches(
    period, client_for, manager, rep
):
    now = timezone.now()
    queue = SalesQueueFactory(name="EMEA")
    old = now - 2000 * H
    # called long ago, never accepted: old, but no SLA breach (the SLA is on the first call)
    AssignmentFactory(queue=queue, rep=rep, handed_off_at=old, assigned_at=old, sla_due_at=old + H, first_touch_at=old)
    AssignmentFactory(queue=queue, rep=rep, handed_off_at=now - 5 * H, assigned_at=now - 5 * H, sla_due_at=now - 4 * H)
    AssignmentFactory(queue=queue, rep=rep, handed_off_at=now - H, assigned_at=now - H, sla_due_at=now + H)
    result = run("handoff", **period)
    ageing = result.table("queue_ageing")
    (row,) = ageing.rows
    assert (row["not_called"], row["past_sla"], row["unaccepted"]) == (2, 1, 1)
    assert row["oldest_unaccepted_h"] == pytest.approx(2000, abs=0.1)
    assert row["oldest_not_called_h"] == pytest.approx(5, abs=0.1)
    assert len(result.table("open_breaches").rows) == row["past_sla"]
    assert "no SLA applies to accepting" in ageing.note
    assert "not a breach" in result.table("open_breaches").note
    assert assert_every_link_counts_its_number(client_for(manager), result) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["handoff", "funnel"])
def test_a_week_cut_by_the_date_filter_says_how_much_of_it_is_counted(monday, slug):
    wednesday = monday.date() + 2 * DAY
    result = run(slug, date_from=wednesday.isoformat(), date_to=(monday.date() + 15 * DAY).isoformat())
    labels = [row["week"] for row in result.tables[0].rows if row["week"] != "All weeks"]
    assert labels == [
        f"{monday.date().isoformat()} (partial week: 5 of 7 days)",
        monday.date() + 7 * DAY,
        f"{(monday.date() + 14 * DAY).isoformat()} (partial week: 2 of 7 days)",
    ]
