"""One lock order for the sales services (crm/locking.py): a rep's call, the SLA check's
reassignment, a rejection and a deal close racing on the same leads never deadlock and never
lose each other's writes.

Each round sets up leads that all four can act on (an OPPORTUNITY with an accepted assignment
whose first-touch SLA is overdue, and an open deal), then runs the four in separate threads
(separate connections), each going through the leads in its own order. Whatever wins, the
loser must get a clear refusal (a ValidationError), never a database error, and the rows must
tell one consistent story."""

import datetime
import random
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from crm.models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    Deal,
    DealStage,
    SlaAction,
    SlaBreach,
)
from crm.services.calls import call_log
from crm.services.deals import deal_close
from crm.services.handoff import assignment_reject, sla_check
from leads.models import Lead, LeadOutcome, LeadTransition, LifecycleStage
from tests.crm.factories import (
    AccountFactory,
    AssignmentFactory,
    DealFactory,
    QueueMembershipFactory,
    SalesQueueFactory,
)
from tests.leads.factories import LeadFactory

S = LifecycleStage
ROUNDS = 12
LEADS_PER_ROUND = 4


def _round(rep, spare_rep, rng):
    queue = SalesQueueFactory(sla_action=SlaAction.REASSIGN, max_attempts=99)
    QueueMembershipFactory(queue=queue, rep=rep, capacity=100)
    QueueMembershipFactory(queue=queue, rep=spare_rep, capacity=100)
    past = timezone.now() - datetime.timedelta(hours=3)
    rows = []
    for _ in range(LEADS_PER_ROUND):
        lead = LeadFactory(stage=S.OPPORTUNITY, owner=rep)
        assignment = AssignmentFactory(
            lead=lead,
            queue=queue,
            rep=rep,
            status=AssignmentStatus.ACCEPTED,
            handed_off_at=past,
            assigned_at=past,
            accepted_at=past,
            sla_due_at=past + datetime.timedelta(minutes=30),
        )
        deal = DealFactory(lead=lead, owner=rep, account=AccountFactory(owner=rep))
        rows.append((lead, assignment, deal))
    return rows


def _race(rep, rows, rng):
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def each(action):
        def run():
            order = list(rows)
            rng.shuffle(order)
            try:
                barrier.wait()
                if action == "sla":
                    sla_check(batch_size=2)
                    return
                for lead, assignment, deal in order:
                    try:
                        if action == "call":
                            call_log(rep=rep, outcome="connected", lead_id=lead.pk)
                        elif action == "reject":
                            assignment_reject(assignment_id=assignment.pk, reason="not_a_fit", actor=rep)
                        elif action == "close":
                            won = deal.pk % 2 == 0
                            deal_close(deal_id=deal.pk, won=won, actor=rep, lost_reason="" if won else "price")
                    except (ValidationError, PermissionDenied):
                        pass  # someone else got there first: a clear refusal is the right answer
            except BaseException as exc:  # a deadlock or any other database error fails the test
                errors.append(exc)
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=each(a)) for a in ("call", "sla", "reject", "close")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def _check_story(rows):
    for lead, _, deal in rows:
        lead = Lead.objects.get(pk=lead.pk)
        history = list(LeadTransition.objects.filter(lead=lead).order_by("at", "id"))
        # the lead's stage is the last move recorded, and each move starts where the last ended
        if history:
            assert lead.stage == history[-1].to_stage, (lead.pk, lead.stage, history[-1].to_stage)
            for before, after in zip(history, history[1:], strict=False):
                assert after.from_stage == before.to_stage, (lead.pk, before, after)
        assert Assignment.objects.filter(lead=lead, status__in=ACTIVE_ASSIGNMENT_STATUSES).count() <= 1
        deal = Deal.objects.get(pk=deal.pk)
        outcomes = [t.outcome for t in history if t.outcome]
        if deal.stage == DealStage.WON and LeadOutcome.WON in outcomes:
            assert lead.stage == S.CUSTOMER
        # at most one sales outcome ends the opportunity: rejected, won or lost, not two
        assert len([o for o in outcomes if o in (LeadOutcome.REJECTED, LeadOutcome.WON, LeadOutcome.LOST)]) <= 1
    for call in Call.objects.filter(lead_id__in=[lead.pk for lead, _, _ in rows]).exclude(assignment=None):
        # a call linked to an assignment stamped its first touch (not overwritten by a reassign)
        assert Assignment.objects.get(pk=call.assignment_id).first_touch_at is not None
    for breach in SlaBreach.objects.filter(assignment__lead_id__in=[lead.pk for lead, _, _ in rows]):
        touched = Assignment.objects.get(pk=breach.assignment_id).first_touch_at
        # a breach is recorded only for an assignment nobody had called when it was checked
        assert touched is None or touched >= breach.breached_at


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_calls_sla_reassign_reject_and_deal_close_on_the_same_leads_never_deadlock(make_user):
    rep = make_user("Sales rep", username="race_rep")
    spare_rep = make_user("Sales rep", username="race_spare")
    rng = random.Random(19)
    failures = []
    for _ in range(ROUNDS):
        rows = _round(rep, spare_rep, rng)
        failures += _race(rep, rows, rng)
        _check_story(rows)
    assert failures == [], [repr(f) for f in failures[:5]]
