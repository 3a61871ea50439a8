import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.models import AssignmentStatus, Call, CallOutcome, FollowUp, FollowUpKind, ObjectionNote
from crm.services.calls import call_log
from leads.models import LeadTransition, LifecycleStage
from tests.campaigns.factories import CollateralFactory
from tests.crm.factories import AccountFactory, ContactFactory, FollowUpFactory
from tests.crm.sales_fixtures import accepted_lead, assigned_lead, queue_with_attempts
from tests.leads.factories import LeadFactory
from tests.sent_tasks import run_sent_tasks_inline

pytestmark = pytest.mark.django_db


def test_a_call_with_objections_and_a_next_step_is_written_in_one_go(rep):
    assignment = assigned_lead(rep)
    collateral = CollateralFactory()
    next_step = timezone.now() + datetime.timedelta(days=2)

    call = call_log(
        rep=rep,
        lead_id=assignment.lead_id,
        outcome=CallOutcome.CALLBACK_REQUESTED,
        duration_seconds=300,
        notes="Wants to talk to the CFO.",
        next_step_at=next_step,
        objections=[
            {
                "category": "price",
                "said": "Too dear",
                "response": "ROI story",
                "overcome": True,
                "collateral_id": collateral.pk,
            },
            {"category": "authority", "said": "Not my call"},
        ],
    )

    assert call.assignment_id == assignment.pk
    assert sorted(ObjectionNote.objects.filter(call=call).values_list("category", flat=True)) == ["authority", "price"]
    assert ObjectionNote.objects.get(call=call, category="price").collateral_id == collateral.pk
    follow_up = FollowUp.objects.get(call=call)
    assert (follow_up.kind, follow_up.due_at, follow_up.rep_id) == (FollowUpKind.CALLBACK, next_step, rep.pk)


def test_the_first_call_stamps_first_touch_and_later_calls_keep_it(rep):
    assignment = assigned_lead(rep)
    first = call_log(rep=rep, lead_id=assignment.lead_id, outcome=CallOutcome.NO_ANSWER, duration_seconds=0)
    call_log(rep=rep, lead_id=assignment.lead_id, outcome=CallOutcome.CONNECTED, duration_seconds=60)

    assignment.refresh_from_db()
    assert assignment.first_touch_at == first.called_at


def test_a_next_step_after_a_plain_call_is_a_follow_up(rep):
    assignment = assigned_lead(rep)
    call = call_log(
        rep=rep,
        lead_id=assignment.lead_id,
        outcome=CallOutcome.CONNECTED,
        duration_seconds=60,
        next_step_at=timezone.now() + datetime.timedelta(days=1),
    )
    assert FollowUp.objects.get(call=call).kind == FollowUpKind.FOLLOW_UP


def test_a_call_closes_the_follow_ups_that_were_due(rep):
    assignment = assigned_lead(rep)
    due = FollowUpFactory(rep=rep, lead=assignment.lead, due_at=timezone.now() - datetime.timedelta(hours=1))
    later = FollowUpFactory(rep=rep, lead=assignment.lead, due_at=timezone.now() + datetime.timedelta(days=3))

    call_log(rep=rep, lead_id=assignment.lead_id, outcome=CallOutcome.CONNECTED, duration_seconds=60)

    due.refresh_from_db()
    later.refresh_from_db()
    assert due.done_at is not None
    assert later.done_at is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"called_at": timezone.now() + datetime.timedelta(days=1)}, "called_at"),
        ({"duration_seconds": -5}, "duration_seconds"),
        ({"duration_seconds": "abc"}, "duration_seconds"),
        ({"next_step_at": timezone.now() - datetime.timedelta(days=1)}, "next_step_at"),
        ({"outcome": "shouted"}, "outcome"),
        ({"objections": [{"category": "weather"}]}, "objections.0.category"),
        ({"objections": [{"category": "price", "collateral_id": 999999}]}, "objections.0.collateral_id"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(rep, kwargs, field):
    assignment = assigned_lead(rep)
    arguments = {"rep": rep, "lead_id": assignment.lead_id, "outcome": CallOutcome.CONNECTED, "duration_seconds": 60}
    arguments.update(kwargs)

    with pytest.raises(ValidationError) as error:
        call_log(**arguments)

    assert field in error.value.message_dict
    assert not Call.objects.exists()
    assignment.refresh_from_db()
    assert assignment.first_touch_at is None


def test_another_reps_lead_is_not_found(rep, other_rep):
    assignment = assigned_lead(other_rep)
    with pytest.raises(ValidationError) as error:
        call_log(rep=rep, lead_id=assignment.lead_id, outcome=CallOutcome.CONNECTED, duration_seconds=1)
    assert "not found" in error.value.message_dict["lead_id"][0]
    assert not Call.objects.exists()


def test_a_manager_may_log_a_call_on_any_lead(manager, rep):
    assignment = assigned_lead(rep)
    call = call_log(rep=manager, lead_id=assignment.lead_id, outcome=CallOutcome.CONNECTED, duration_seconds=1)
    assert call.rep == manager


def test_marketing_cannot_log_calls(marketer, rep):
    assignment = assigned_lead(rep)
    with pytest.raises(PermissionDenied):
        call_log(rep=marketer, lead_id=assignment.lead_id, outcome=CallOutcome.CONNECTED, duration_seconds=1)


def test_a_lead_back_with_marketing_cannot_be_called(manager):
    lead = LeadFactory(stage=LifecycleStage.MQL)
    with pytest.raises(ValidationError) as error:
        call_log(rep=manager, lead_id=lead.pk, outcome=CallOutcome.CONNECTED, duration_seconds=1)
    assert "lead_id" in error.value.message_dict


def test_after_the_queues_unanswered_attempts_the_lead_goes_back_as_no_contact(rep):
    assignment = assigned_lead(rep, queue=queue_with_attempts(3))
    lead_id = assignment.lead_id
    call_log(rep=rep, lead_id=lead_id, outcome=CallOutcome.NO_ANSWER, duration_seconds=0)
    call_log(rep=rep, lead_id=lead_id, outcome=CallOutcome.LEFT_VOICEMAIL, duration_seconds=30)
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ASSIGNED

    call_log(rep=rep, lead_id=lead_id, outcome=CallOutcome.NO_ANSWER, duration_seconds=0)

    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.CLOSED
    assert assignment.closed_at is not None
    transition = LeadTransition.objects.filter(lead_id=lead_id).latest("at", "id")
    assert (transition.to_stage, transition.reason) == (LifecycleStage.RECYCLED, "no_contact")
    assert assignment.lead.__class__.objects.get(pk=lead_id).owner is None


def test_the_cadence_stops_once_someone_answered(rep):
    assignment = assigned_lead(rep, queue=queue_with_attempts(2))
    lead_id = assignment.lead_id
    call_log(rep=rep, lead_id=lead_id, outcome=CallOutcome.CONNECTED, duration_seconds=60)
    call_log(rep=rep, lead_id=lead_id, outcome=CallOutcome.NO_ANSWER, duration_seconds=0)
    call_log(rep=rep, lead_id=lead_id, outcome=CallOutcome.NO_ANSWER, duration_seconds=0)

    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ASSIGNED


def test_a_call_on_a_customer_contact_is_logged_and_schedules_the_next_check_in(rep):
    account = AccountFactory(owner=rep, is_customer=True, next_check_in_on=timezone.localdate())
    contact = ContactFactory(account=account)
    next_step = timezone.now() + datetime.timedelta(days=30)

    call = call_log(
        rep=rep, contact_id=contact.pk, outcome=CallOutcome.CONNECTED, duration_seconds=200, next_step_at=next_step
    )

    assert call.contact == contact and call.lead is None
    account.refresh_from_db()
    assert account.next_check_in_on == timezone.localdate(next_step)
    assert FollowUp.objects.get(call=call).kind == FollowUpKind.CHECK_IN


def test_another_reps_customer_contact_is_not_found(rep, other_rep):
    contact = ContactFactory(account=AccountFactory(owner=other_rep, is_customer=True))
    with pytest.raises(ValidationError) as error:
        call_log(rep=rep, contact_id=contact.pk, outcome=CallOutcome.CONNECTED, duration_seconds=1)
    assert "contact_id" in error.value.message_dict


def test_a_call_on_an_accepted_lead_keeps_it_with_sales(rep):
    assignment = accepted_lead(rep)
    call_log(rep=rep, lead_id=assignment.lead_id, outcome=CallOutcome.MEETING_BOOKED, duration_seconds=600)
    assignment.lead.refresh_from_db()
    assert assignment.lead.stage == LifecycleStage.SAL


def test_a_check_in_call_on_a_customer_lead_moves_the_accounts_next_check_in(rep):
    customer = LeadFactory(stage=LifecycleStage.CUSTOMER, owner=rep)
    account = AccountFactory(owner=rep, is_customer=True, next_check_in_on=timezone.localdate())
    ContactFactory(account=account, lead=customer)
    next_step = timezone.now() + datetime.timedelta(days=90)

    call = call_log(
        rep=rep, lead_id=customer.pk, outcome=CallOutcome.CONNECTED, duration_seconds=300, next_step_at=next_step
    )

    account.refresh_from_db()
    assert call.contact.account == account
    assert account.next_check_in_on == timezone.localdate(next_step)
    assert FollowUp.objects.get(call=call).kind == FollowUpKind.CHECK_IN


def test_a_check_in_call_without_a_next_step_schedules_the_next_one_in_90_days(rep):
    customer = LeadFactory(stage=LifecycleStage.CUSTOMER, owner=rep)
    account = AccountFactory(owner=rep, is_customer=True, next_check_in_on=timezone.localdate())
    ContactFactory(account=account, lead=customer)

    call_log(rep=rep, lead_id=customer.pk, outcome=CallOutcome.CONNECTED, duration_seconds=60)

    account.refresh_from_db()
    assert account.next_check_in_on == timezone.localdate(timezone.now() + datetime.timedelta(days=90))


def test_an_exhausted_cadence_gives_the_freed_place_to_the_queues_waiting_lead_at_once(
    rep, monkeypatch, django_capture_on_commit_callbacks
):
    from crm.services.handoff import lead_handoff
    from tests.crm.factories import QueueMembershipFactory

    run_sent_tasks_inline(monkeypatch)
    queue = queue_with_attempts(1)
    QueueMembershipFactory(queue=queue, rep=rep, capacity=1)
    assignment = assigned_lead(rep, queue=queue)
    waiting = lead_handoff(lead_id=LeadFactory(stage=LifecycleStage.MQL).pk)
    assert waiting.status == AssignmentStatus.QUEUED

    with django_capture_on_commit_callbacks(execute=True):
        call_log(rep=rep, lead_id=assignment.lead_id, outcome=CallOutcome.NO_ANSWER, duration_seconds=0)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.rep) == (AssignmentStatus.ASSIGNED, rep)
