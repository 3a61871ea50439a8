import datetime
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm import routing
from crm.models import (
    Assignment,
    AssignmentStatus,
    HandoffRefusal,
    Notification,
    QueueMembership,
    RoutingStrategy,
    SlaAction,
    SlaBreach,
)
from crm.services import handoff as handoff_module
from crm.services.handoff import (
    assignment_accept,
    assignment_reassign,
    assignment_reject,
    handoff_queue_fill,
    handoff_sweep,
    lead_handoff,
    sla_check,
)
from crm.services.notifications import email_outbox_deliver
from leads.models import Lead, LeadTransition, LifecycleStage
from tests.crm.factories import AccountFactory, AssignmentFactory, QueueMembershipFactory, SalesQueueFactory
from tests.leads.factories import LeadFactory, SegmentFactory
from tests.sent_tasks import task_sends

S = LifecycleStage
pytestmark = pytest.mark.django_db


def mql(**kwargs) -> Lead:
    return LeadFactory(stage=S.MQL, **kwargs)


@pytest.fixture
def queue():
    return SalesQueueFactory(
        name="Inbound",
        priority=1,
        business_days=[0, 1, 2, 3, 4, 5, 6],
        business_hours_start=datetime.time(0, 0),
        business_hours_end=datetime.time(23, 59),
    )


@pytest.fixture
def rep_in_queue(queue, rep):
    return QueueMembershipFactory(queue=queue, rep=rep, capacity=5)


# --- routing and assignment ----------------------------------------------------------------


def test_an_mql_is_assigned_to_the_queue_rep_and_moves_to_handed_off(queue, rep_in_queue, rep):
    lead = mql()

    assignment = lead_handoff(lead_id=lead.pk)

    assert assignment.status == AssignmentStatus.ASSIGNED
    assert (assignment.queue, assignment.rep) == (queue, rep)
    assert assignment.handed_off_at == assignment.assigned_at
    assert assignment.sla_due_at == assignment.handed_off_at + datetime.timedelta(minutes=queue.sla_minutes)
    lead.refresh_from_db()
    assert (lead.stage, lead.owner) == (S.HANDED_OFF, rep)
    assert LeadTransition.objects.filter(lead=lead, to_stage=S.HANDED_OFF).count() == 1


def test_the_rep_gets_an_in_app_notification_and_an_email_after_commit(
    queue, rep_in_queue, rep, django_capture_on_commit_callbacks
):
    lead = mql()

    with (
        task_sends("crm.tasks.email_outbox_deliver_task") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        lead_handoff(lead_id=lead.pk)

    notification = Notification.objects.get(user=rep)
    assert notification.kind == "assignment"
    delay.assert_called_once_with([notification.email_outbox.pk])
    assert email_outbox_deliver(outbox_ids=[notification.email_outbox.pk]) == 1
    assert mail.outbox[0].to == [rep.email]


def test_handing_off_twice_returns_the_same_assignment(queue, rep_in_queue):
    lead = mql()

    first = lead_handoff(lead_id=lead.pk)
    second = lead_handoff(lead_id=lead.pk)

    assert first.pk == second.pk
    assert Assignment.objects.filter(lead=lead).count() == 1


def test_a_unique_constraint_violation_counts_as_already_handed_off(queue, rep_in_queue):
    lead = mql()
    existing = lead_handoff(lead_id=lead.pk)

    with mock.patch.object(handoff_module, "handoff_locked_leads", side_effect=IntegrityError("duplicate")):
        assert lead_handoff(lead_id=lead.pk).pk == existing.pk


def test_the_database_refuses_a_second_active_assignment(queue, rep_in_queue):
    lead = mql()
    assignment = lead_handoff(lead_id=lead.pk)

    with pytest.raises(IntegrityError):
        AssignmentFactory(lead=lead, queue=queue, rep=assignment.rep)


def test_a_lead_that_is_not_an_mql_is_not_handed_off(queue, rep_in_queue):
    lead = LeadFactory(stage=S.ENGAGED)

    assert lead_handoff(lead_id=lead.pk) is None
    assert not Assignment.objects.exists()


def test_a_missing_lead_is_not_an_error(queue):
    assert lead_handoff(lead_id=987654) is None


@pytest.mark.parametrize("flag", ["do_not_call", "do_not_contact"])
def test_do_not_call_or_contact_leads_are_never_handed_off_and_the_reason_is_recorded(queue, rep_in_queue, flag):
    lead = mql(**{flag: True})

    assert lead_handoff(lead_id=lead.pk) is None
    assert lead_handoff(lead_id=lead.pk) is None

    assert not Assignment.objects.exists()
    assert list(HandoffRefusal.objects.filter(lead=lead).values_list("reason", flat=True)) == [flag]
    lead.refresh_from_db()
    assert lead.stage == S.MQL


def test_a_lead_of_an_owned_account_goes_to_the_account_owner(queue, rep_in_queue, other_rep):
    AccountFactory(domain="Acme.com", owner=other_rep)
    lead = mql(company_domain="acme.com")

    assignment = lead_handoff(lead_id=lead.pk)

    assert assignment.rep == other_rep
    assert assignment.queue == queue


def test_queues_are_tried_by_priority_and_inactive_ones_are_skipped(rep, other_rep):
    inactive = SalesQueueFactory(name="Closed", priority=1, is_active=False)
    first = SalesQueueFactory(name="First", priority=5)
    second = SalesQueueFactory(name="Second", priority=9)
    for q in (inactive, first, second):
        QueueMembershipFactory(queue=q, rep=rep)

    assert lead_handoff(lead_id=mql().pk).queue == first


def test_a_queue_with_a_segment_takes_only_its_members(rep, monkeypatch):
    enterprise = SegmentFactory(name="Enterprise")
    special = SalesQueueFactory(name="Enterprise", priority=1, segment=enterprise)
    catch_all = SalesQueueFactory(name="Everyone else", priority=2)
    QueueMembershipFactory(queue=special, rep=rep)
    QueueMembershipFactory(queue=catch_all, rep=rep)
    big, small = mql(employees=5000), mql(employees=10)
    monkeypatch.setattr(
        routing,
        "lead_in_segment",
        lambda *, segment_id, lead_id: segment_id == enterprise.pk and lead_id == big.pk,
    )

    assert lead_handoff(lead_id=big.pk).queue == special
    assert lead_handoff(lead_id=small.pk).queue == catch_all


def test_without_a_matching_queue_the_lead_stays_an_mql_for_the_sweep():
    lead = mql()

    assert lead_handoff(lead_id=lead.pk) is None
    lead.refresh_from_db()
    assert lead.stage == S.MQL


def test_round_robin_takes_turns(queue, rep, other_rep):
    QueueMembershipFactory(queue=queue, rep=rep)
    QueueMembershipFactory(queue=queue, rep=other_rep)

    reps = [lead_handoff(lead_id=mql().pk).rep for _ in range(4)]

    assert reps[0] != reps[1]
    assert reps[0:2] == reps[2:4]


def test_least_loaded_prefers_the_rep_with_fewest_open_assignments(queue, rep, other_rep):
    queue.strategy = RoutingStrategy.LEAST_LOADED
    queue.save()
    QueueMembershipFactory(queue=queue, rep=rep)
    QueueMembershipFactory(queue=queue, rep=other_rep)
    AssignmentFactory.create_batch(2, queue=queue, rep=rep)

    assert lead_handoff(lead_id=mql().pk).rep == other_rep


def test_an_away_or_inactive_member_gets_no_leads(queue, rep, other_rep, make_user):
    third = make_user("Sales rep", username="rep_c")
    QueueMembershipFactory(queue=queue, rep=rep, away_until=timezone.localdate() + datetime.timedelta(days=2))
    QueueMembershipFactory(queue=queue, rep=third, is_active=False)
    QueueMembershipFactory(queue=queue, rep=other_rep)

    assert lead_handoff(lead_id=mql().pk).rep == other_rep


def test_when_nobody_has_room_the_lead_waits_queued_and_is_assigned_when_room_appears(queue, rep):
    QueueMembershipFactory(queue=queue, rep=rep, capacity=1)
    first = lead_handoff(lead_id=mql().pk)
    waiting_lead = mql()

    waiting = lead_handoff(lead_id=waiting_lead.pk)

    assert (waiting.status, waiting.rep) == (AssignmentStatus.QUEUED, None)
    waiting_lead.refresh_from_db()
    assert waiting_lead.stage == S.MQL
    assert handoff_queue_fill(queue_id=queue.pk) == 0

    assignment_reject(assignment_id=first.pk, reason="bad_data", actor=rep)
    assert handoff_queue_fill(queue_id=queue.pk) == 1

    waiting.refresh_from_db()
    assert (waiting.status, waiting.rep) == (AssignmentStatus.ASSIGNED, rep)
    waiting_lead.refresh_from_db()
    assert (waiting_lead.stage, waiting_lead.owner) == (S.HANDED_OFF, rep)


def test_a_waiting_lead_that_left_mql_has_its_assignment_closed(queue, rep):
    QueueMembershipFactory(queue=queue, rep=rep, capacity=0)
    lead = mql()
    waiting = lead_handoff(lead_id=lead.pk)
    Lead.objects.filter(pk=lead.pk).update(stage=S.DISQUALIFIED)

    handoff_queue_fill(queue_id=queue.pk)

    waiting.refresh_from_db()
    assert waiting.status == AssignmentStatus.CLOSED


def _fill_statements(queue, rep, *, waiting: int, gone: int) -> list[str]:
    membership = QueueMembershipFactory(queue=queue, rep=rep, capacity=0)
    leads = [mql() for _ in range(waiting + gone)]
    for lead in leads:
        lead_handoff(lead_id=lead.pk)
    ids = [lead.pk for lead in leads]
    Lead.objects.filter(pk__in=ids[waiting:]).update(stage=S.DISQUALIFIED)
    QueueMembership.objects.filter(pk=membership.pk).update(capacity=waiting)
    with CaptureQueriesContext(connection) as queries:
        filled = handoff_queue_fill(queue_id=queue.pk)
    assert filled == waiting
    assert Lead.objects.filter(pk__in=ids, stage=S.HANDED_OFF, owner=rep).count() == waiting
    assert LeadTransition.objects.filter(lead_id__in=ids, to_stage=S.HANDED_OFF).count() == waiting
    assert Assignment.objects.filter(lead_id__in=ids, status=AssignmentStatus.CLOSED).count() == gone
    return [q["sql"] for q in queries.captured_queries]


def test_filling_a_queue_locks_and_writes_its_leads_set_based(queue, rep, other_rep):
    """The statements do not grow with the number of waiting leads: the leads are locked in one
    statement (pk order, through SalesLocks), the assignments written in one, the leads moved to
    HANDED_OFF in one."""
    few = _fill_statements(queue, rep, waiting=2, gone=1)
    many = _fill_statements(queue, other_rep, waiting=7, gone=3)

    assert len(many) == len(few), many
    lead_locks = [q for q in many if "FOR UPDATE" in q and q.split(" WHERE ")[0].endswith('FROM "leads_lead"')]
    # SalesLocks takes them (skipping those another worker holds); the move to HANDED_OFF
    # re-takes the same rows, already held, in the same statement shape: both set-based.
    assert len(lead_locks) == 2, lead_locks
    assert lead_locks[0].rstrip().endswith("FOR UPDATE SKIP LOCKED")
    assert all("ORDER BY" in q for q in lead_locks)


def test_capacity_is_per_queue_and_counts_open_assignments(queue, rep):
    QueueMembershipFactory(queue=queue, rep=rep, capacity=2)
    AssignmentFactory(queue=queue, rep=rep, status=AssignmentStatus.ACCEPTED)
    AssignmentFactory(queue=queue, rep=rep, status=AssignmentStatus.REJECTED, rejected_reason="duplicate")
    AssignmentFactory(rep=rep)  # another queue

    assert lead_handoff(lead_id=mql().pk).rep == rep
    assert lead_handoff(lead_id=mql().pk).status == AssignmentStatus.QUEUED


# --- sweep -----------------------------------------------------------------------------------


def test_the_sweep_hands_off_every_mql_without_an_active_assignment(queue, rep_in_queue, other_rep):
    QueueMembershipFactory(queue=queue, rep=other_rep, capacity=5)
    leads = [mql() for _ in range(7)]
    lead_handoff(lead_id=leads[0].pk)
    LeadFactory(stage=S.ENGAGED)

    handed = handoff_sweep(batch_size=3)

    assert handed == 6
    assert Assignment.objects.active().count() == 7
    assert handoff_sweep(batch_size=3) == 0


def test_the_sweep_records_refusals_once_and_then_skips_them(queue, rep_in_queue):
    lead = mql(do_not_call=True)

    handoff_sweep()
    handoff_sweep()

    assert HandoffRefusal.objects.filter(lead=lead).count() == 1
    assert not handoff_module.sweep_candidates().exists()


def test_the_sweep_assigns_waiting_leads_once_a_rep_has_room(queue, rep):
    membership = QueueMembershipFactory(queue=queue, rep=rep, capacity=0)
    waiting = lead_handoff(lead_id=mql().pk)
    membership.capacity = 1
    membership.save()

    handoff_sweep()

    waiting.refresh_from_db()
    assert waiting.status == AssignmentStatus.ASSIGNED


# --- accept / reject / reassign --------------------------------------------------------------


@pytest.fixture
def assigned(queue, rep_in_queue):
    return lead_handoff(lead_id=mql().pk)


def test_accepting_makes_the_lead_sales_accepted(assigned, rep):
    accepted = assignment_accept(assignment_id=assigned.pk, actor=rep)

    assert accepted.status == AssignmentStatus.ACCEPTED
    assert accepted.accepted_at is not None
    assert Lead.objects.get(pk=assigned.lead_id).stage == S.SAL


def test_accepting_twice_is_harmless(assigned, rep):
    assignment_accept(assignment_id=assigned.pk, actor=rep)

    assert assignment_accept(assignment_id=assigned.pk, actor=rep).status == AssignmentStatus.ACCEPTED
    assert LeadTransition.objects.filter(lead_id=assigned.lead_id, to_stage=S.SAL).count() == 1


def test_another_rep_cannot_see_or_act_on_the_assignment(assigned, other_rep):
    with pytest.raises(ValidationError) as exc:
        assignment_accept(assignment_id=assigned.pk, actor=other_rep)

    assert exc.value.message_dict == {
        "assignment_id": ["Assignment not found (it may have been moved to someone else)."]
    }


def test_a_manager_can_accept_for_a_rep(assigned, manager):
    assert assignment_accept(assignment_id=assigned.pk, actor=manager).status == AssignmentStatus.ACCEPTED


def test_rejecting_recycles_the_lead_with_the_reason(assigned, rep):
    rejected = assignment_reject(assignment_id=assigned.pk, reason="not_a_fit", note="Too small", actor=rep)

    assert (rejected.status, rejected.rejected_reason, rejected.rejected_note) == (
        AssignmentStatus.REJECTED,
        "not_a_fit",
        "Too small",
    )
    lead = Lead.objects.get(pk=assigned.lead_id)
    assert (lead.stage, lead.owner) == (S.RECYCLED, None)
    transition = LeadTransition.objects.filter(lead=lead).last()
    assert (transition.reason, transition.note, transition.actor) == ("rejected:not_a_fit", "Too small", rep)
    assert not Assignment.objects.active().filter(lead=lead).exists()


def test_rejecting_for_no_contact_uses_the_no_contact_outcome(assigned, rep):
    assignment_reject(assignment_id=assigned.pk, reason="no_contact", actor=rep)

    assert LeadTransition.objects.filter(lead_id=assigned.lead_id).last().reason == "no_contact"


def test_other_needs_a_note(assigned, rep):
    with pytest.raises(ValidationError) as exc:
        assignment_reject(assignment_id=assigned.pk, reason="other", note="  ", actor=rep)

    assert "note" in exc.value.message_dict


def test_an_unknown_reason_is_refused_naming_the_field(assigned, rep):
    with pytest.raises(ValidationError) as exc:
        assignment_reject(assignment_id=assigned.pk, reason="bored", actor=rep)

    assert "reason" in exc.value.message_dict


def test_a_rejected_assignment_cannot_be_rejected_again(assigned, rep):
    assignment_reject(assignment_id=assigned.pk, reason="duplicate", actor=rep)

    with pytest.raises(ValidationError) as exc:
        assignment_reject(assignment_id=assigned.pk, reason="duplicate", actor=rep)

    assert "status" in exc.value.message_dict


def test_a_manager_reassigns_to_another_rep(assigned, manager, other_rep):
    new = assignment_reassign(assignment_id=assigned.pk, rep_id=other_rep.pk, actor=manager)

    assigned.refresh_from_db()
    assert assigned.status == AssignmentStatus.REASSIGNED
    assert (new.rep, new.status, new.previous_id) == (other_rep, AssignmentStatus.ASSIGNED, assigned.pk)
    lead = Lead.objects.get(pk=assigned.lead_id)
    assert (lead.stage, lead.owner) == (S.HANDED_OFF, other_rep)
    assert Notification.objects.filter(user=other_rep, kind="assignment").exists()


def test_reassigning_an_accepted_lead_keeps_it_accepted(assigned, rep, manager, other_rep):
    assignment_accept(assignment_id=assigned.pk, actor=rep)

    new = assignment_reassign(assignment_id=assigned.pk, rep_id=other_rep.pk, actor=manager)

    assert new.status == AssignmentStatus.ACCEPTED
    assert Lead.objects.get(pk=assigned.lead_id).stage == S.SAL


def test_a_manager_places_a_waiting_lead_with_a_rep(queue, rep, manager, other_rep):
    QueueMembershipFactory(queue=queue, rep=rep, capacity=0)
    waiting = lead_handoff(lead_id=mql().pk)

    placed = assignment_reassign(assignment_id=waiting.pk, rep_id=other_rep.pk, actor=manager)

    assert (placed.pk, placed.rep, placed.status) == (waiting.pk, other_rep, AssignmentStatus.ASSIGNED)
    assert Lead.objects.get(pk=waiting.lead_id).stage == S.HANDED_OFF


def test_a_rep_cannot_reassign(assigned, rep, other_rep):
    with pytest.raises(PermissionDenied):
        assignment_reassign(assignment_id=assigned.pk, rep_id=other_rep.pk, actor=rep)


@pytest.mark.parametrize("bad", [None, "x", 999999])
def test_reassigning_to_something_that_is_not_a_rep_names_the_field(assigned, manager, bad):
    with pytest.raises(ValidationError) as exc:
        assignment_reassign(assignment_id=assigned.pk, rep_id=bad, actor=manager)

    assert "rep_id" in exc.value.message_dict


def test_reassigning_to_the_same_rep_is_refused(assigned, manager, rep):
    with pytest.raises(ValidationError) as exc:
        assignment_reassign(assignment_id=assigned.pk, rep_id=rep.pk, actor=manager)

    assert "rep_id" in exc.value.message_dict


# --- SLA -------------------------------------------------------------------------------------


def overdue(assignment):
    Assignment.objects.filter(pk=assignment.pk).update(sla_due_at=timezone.now() - datetime.timedelta(minutes=1))


def test_an_sla_breach_reassigns_to_the_next_rep_once(assigned, queue, rep, other_rep):
    QueueMembershipFactory(queue=queue, rep=other_rep)
    overdue(assigned)

    assert sla_check() == 1
    assert sla_check() == 0

    breach = SlaBreach.objects.get()
    assert (breach.assignment_id, breach.action) == (assigned.pk, SlaAction.REASSIGN)
    assert breach.new_assignment.rep == other_rep
    assert Assignment.objects.active().get(lead_id=assigned.lead_id) == breach.new_assignment
    assert Lead.objects.get(pk=assigned.lead_id).owner == other_rep


def test_an_sla_breach_escalates_to_the_queue_manager_when_the_queue_says_so(assigned, queue, rep, manager):
    queue.sla_action = SlaAction.ESCALATE
    queue.manager = manager
    queue.save()
    overdue(assigned)

    sla_check()

    breach = SlaBreach.objects.get()
    assert (breach.action, breach.escalated_to) == (SlaAction.ESCALATE, manager)
    assert Notification.objects.filter(user=manager, kind="sla_escalation").count() == 1
    assert Assignment.objects.active().get(lead_id=assigned.lead_id).rep == rep


def test_a_breach_with_nobody_to_take_the_lead_escalates(assigned, queue, manager):
    queue.manager = manager
    queue.save()
    overdue(assigned)

    sla_check()

    assert SlaBreach.objects.get().action == SlaAction.ESCALATE


def test_a_touched_lead_does_not_breach(assigned):
    overdue(assigned)
    Assignment.objects.filter(pk=assigned.pk).update(first_touch_at=timezone.now())

    assert sla_check() == 0


def test_segment_routing_uses_the_segment_definition_for_one_lead_and_for_a_sweep_batch(rep):
    enterprise = SegmentFactory(
        name="Enterprise", definition={"all": [{"field": "employees", "op": "gte", "value": 1000}]}
    )
    special = SalesQueueFactory(name="Enterprise", priority=1, segment=enterprise)
    catch_all = SalesQueueFactory(name="Everyone else", priority=2)
    QueueMembershipFactory(queue=special, rep=rep)
    QueueMembershipFactory(queue=catch_all, rep=rep)
    one_big = mql(employees=5000)
    big, small = mql(employees=2000), mql(employees=10)

    assert lead_handoff(lead_id=one_big.pk).queue == special
    handoff_sweep()

    assert Assignment.objects.get(lead=big).queue == special
    assert Assignment.objects.get(lead=small).queue == catch_all


def test_a_batch_leaves_a_lead_untouched_when_reps_with_room_are_busy_not_full(queue, rep_in_queue, monkeypatch):
    """Busy (locked by a concurrent hand-off) is not full: no QUEUED assignment; the lead stays
    an MQL for the next pass."""
    lead = mql()

    def busy(self, now):
        self.skipped = list(self.candidates)
        return None

    monkeypatch.setattr(routing.RepPicker, "take", busy)

    assert lead_handoff(lead_id=lead.pk) is None
    assert not Assignment.objects.filter(lead=lead).exists()
    assert handoff_module.sweep_candidates().filter(pk=lead.pk).exists()


def test_a_rejection_is_scored_at_once_with_the_policys_penalty(assigned, rep):
    from leads.models import ScoringPolicy

    ScoringPolicy.objects.update_or_create(pk=1, defaults={"rejection_penalty": 15})

    assignment_reject(assignment_id=assigned.pk, reason="no_budget", actor=rep)

    lead = Lead.objects.get(pk=assigned.lead_id)
    penalties = [entry for entry in lead.score_breakdown if entry.get("kind") == "penalty"]
    assert [entry["points"] for entry in penalties] == [-15]
    assert lead.scored_at is not None


def test_a_sweep_batch_costs_the_same_statements_for_few_leads_as_for_many(queue, rep_in_queue, count_queries):
    rep_in_queue.capacity = 100
    rep_in_queue.save()

    def sweep(n):
        ids = [mql().pk for _ in range(n)]
        queries = count_queries(lambda: handoff_sweep(batch_size=100))
        assert Assignment.objects.active().filter(lead_id__in=ids, rep__isnull=False).count() == n
        assert Lead.objects.filter(pk__in=ids, stage=S.HANDED_OFF).count() == n
        return queries

    assert sweep(3) == sweep(40)
