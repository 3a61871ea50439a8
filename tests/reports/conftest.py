import datetime

import pytest
from django.utils import timezone

from reports.selectors import REPORTS


@pytest.fixture
def monday():
    """10:00 on the Monday two weeks ago: inside the default 12-week range."""
    today = timezone.localdate()
    day = today - datetime.timedelta(days=today.weekday() + 14)
    return datetime.datetime.combine(day, datetime.time(9, 0), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def period(monday):
    """Filters covering the week before `monday` to the end of the week after it."""
    return {
        "date_from": (monday.date() - datetime.timedelta(days=7)).isoformat(),
        "date_to": (monday.date() + datetime.timedelta(days=13)).isoformat(),
    }


def run(slug: str, **params):
    """Build one report the way the page does (validated filters) and return the result."""
    spec = REPORTS[slug]
    form = spec.form_class(params)
    assert form.is_valid(), form.errors
    return spec.build(form.cleaned_data)


def rows_by(table, key):
    return {row[key]: row for row in table.rows}


def make_activity(monday, n: int, *, rep, other_rep=None, tag: str = "a"):
    """`n` of everything every report reads: leads through the lifecycle, hand-offs, calls,
    objections, deals, campaign members, collateral shares and views, feedback. Used where the
    exact numbers do not matter (query counts, drill-down links, screenshots)."""
    from campaigns.models import ObjectionCategory
    from crm.models import AssignmentStatus, CallOutcome, DealStage, RejectReason
    from leads.models import LifecycleStage as S
    from tests.campaigns.factories import (
        CampaignFactory,
        CampaignMemberFactory,
        CollateralFactory,
        CollateralShareFactory,
        CollateralViewFactory,
        CustomerFeedbackFactory,
    )
    from tests.crm.factories import (
        AccountFactory,
        AssignmentFactory,
        CallFactory,
        DealFactory,
        ObjectionNoteFactory,
        SalesQueueFactory,
    )
    from tests.leads.factories import LeadFactory, LeadTransitionFactory

    hour = datetime.timedelta(hours=1)
    day = datetime.timedelta(days=1)
    queues = [SalesQueueFactory(name=f"Queue {tag}{i}") for i in range(2)]
    campaigns = [CampaignFactory(name=f"Campaign {tag}{i}", actual_cost=400 + 100 * i) for i in range(2)]
    items = [CollateralFactory(title=f"Item {tag}{i}") for i in range(2)]
    reps = [rep, other_rep or rep]
    industries = ["software", "retail", "finance"]
    for i in range(n):
        at = monday + (i % 10) * day + (i % 7) * hour
        owner = reps[i % 2]
        lead = LeadFactory(
            created_at=at - 3 * day, industry=industries[i % 3], score=10 + (i * 7) % 90, stage=S.HANDED_OFF
        )
        for from_stage, to_stage, offset in (
            (S.NEW, S.ENGAGED, -2 * day),
            (S.ENGAGED, S.MQL, -hour),
            (S.MQL, S.HANDED_OFF, 0 * hour),
        ):
            LeadTransitionFactory(lead=lead, from_stage=from_stage, to_stage=to_stage, at=at + offset)
        rejected = i % 4 == 3
        assignment = AssignmentFactory(
            lead=lead,
            queue=queues[i % 2],
            rep=owner,
            handed_off_at=at,
            status=AssignmentStatus.REJECTED if rejected else AssignmentStatus.ACCEPTED,
            first_touch_at=at + (1 + i % 5) * hour,
            accepted_at=None if rejected else at + (2 + i % 3) * hour,
            rejected_at=at + 3 * hour if rejected else None,
            rejected_reason=RejectReason.NOT_A_FIT if rejected else "",
            sla_breached_at=at + 2 * hour if i % 5 == 0 else None,
        )
        if rejected:
            LeadTransitionFactory(
                lead=lead, from_stage=S.HANDED_OFF, to_stage=S.RECYCLED, reason="rejected:not_a_fit", at=at + 3 * hour
            )
        else:
            LeadTransitionFactory(lead=lead, from_stage=S.HANDED_OFF, to_stage=S.SAL, at=at + 2 * hour)
        call = CallFactory(
            rep=owner,
            lead=lead,
            assignment=assignment,
            outcome=[CallOutcome.CONNECTED, CallOutcome.NO_ANSWER, CallOutcome.MEETING_BOOKED][i % 3],
            called_at=at + hour,
        )
        ObjectionNoteFactory(
            call=call,
            lead=lead,
            category=ObjectionCategory.values[i % 4],
            overcome=i % 2 == 0,
            collateral=items[i % 2] if i % 2 == 0 else None,
            created_at=at + hour,
        )
        CampaignMemberFactory(campaign=campaigns[i % 2], lead=lead, added_at=at - 2 * day)
        share = CollateralShareFactory(collateral=items[i % 2], lead=lead, shared_by=owner, shared_at=at + hour)
        CollateralViewFactory(share=share, viewed_at=at + 2 * hour)
        if not rejected and i % 2 == 0:
            won = i % 4 == 0
            DealFactory(
                lead=lead,
                owner=owner,
                account=AccountFactory(owner=owner),
                amount=1000 + 100 * i,
                stage=DealStage.WON if won else DealStage.LOST,
                lost_reason="" if won else "price",
                created_at=at + day,
                closed_at=at + 3 * day,
            )
            if won:
                LeadTransitionFactory(
                    lead=lead, from_stage=S.OPPORTUNITY, to_stage=S.CUSTOMER, reason="won", at=at + 3 * day
                )
        CustomerFeedbackFactory(lead=lead, rating=i % 11, created_at=at + day, campaign=campaigns[i % 2])
