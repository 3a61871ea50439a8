from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.models import Account, AssignmentStatus, Contact, Deal, DealStage, DealStageChange
from crm.services.deals import deal_close, deal_convert, deal_move, deal_update
from leads.models import Lead, LeadTransition, LifecycleStage
from tests.crm.factories import AccountFactory
from tests.crm.sales_fixtures import accepted_lead, assigned_lead
from tests.sent_tasks import run_sent_tasks_inline

pytestmark = pytest.mark.django_db


def _converted(rep, **lead_fields):
    assignment = accepted_lead(rep, **lead_fields)
    return assignment, deal_convert(lead_id=assignment.lead_id, actor=rep, amount="12000")


def test_converting_creates_account_contact_and_deal_and_makes_the_lead_an_opportunity(rep):
    assignment = accepted_lead(rep, company="Acme", company_domain="acme.io")

    deal = deal_convert(lead_id=assignment.lead_id, actor=rep, amount="12000.50", name="Acme pilot")

    assert (deal.name, deal.amount, deal.stage, deal.owner) == ("Acme pilot", Decimal("12000.50"), "qualification", rep)
    assert deal.account.domain == "acme.io"
    assert deal.contact.lead_id == assignment.lead_id
    assert Lead.objects.get(pk=assignment.lead_id).stage == LifecycleStage.OPPORTUNITY
    assert list(DealStageChange.objects.filter(deal=deal).values_list("from_stage", "to_stage")) == [
        ("", "qualification")
    ]


def test_converting_reuses_the_account_with_the_same_domain_whatever_its_case(rep):
    existing = AccountFactory(domain="Acme.IO")
    assignment = accepted_lead(rep, company_domain="acme.io")

    deal = deal_convert(lead_id=assignment.lead_id, actor=rep, amount=100)

    assert deal.account == existing
    assert Account.objects.count() == 1


def test_a_lead_not_yet_accepted_cannot_be_converted(rep):
    assignment = assigned_lead(rep)
    with pytest.raises(ValidationError) as error:
        deal_convert(lead_id=assignment.lead_id, actor=rep, amount=100)
    assert "Accept" in error.value.message_dict["lead_id"][0]
    assert not Deal.objects.exists()


def test_converting_another_reps_lead_is_not_found_and_writes_nothing(rep, other_rep):
    assignment = accepted_lead(other_rep)
    with pytest.raises(ValidationError) as error:
        deal_convert(lead_id=assignment.lead_id, actor=rep, amount=100)
    assert "not found" in error.value.message_dict["lead_id"][0]
    assert not Account.objects.exists() and not Contact.objects.exists() and not Deal.objects.exists()


@pytest.mark.parametrize("amount", ["-1", "lots", None])
def test_a_bad_amount_names_the_field(rep, amount):
    assignment = accepted_lead(rep)
    with pytest.raises(ValidationError) as error:
        deal_convert(lead_id=assignment.lead_id, actor=rep, amount=amount)
    assert "amount" in error.value.message_dict


def test_converting_twice_is_refused(rep):
    assignment, _deal = _converted(rep)
    with pytest.raises(ValidationError) as error:
        deal_convert(lead_id=assignment.lead_id, actor=rep, amount=1)
    assert "lead_id" in error.value.message_dict
    assert Deal.objects.count() == 1


def test_moving_a_deal_records_the_change(rep):
    _assignment, deal = _converted(rep)
    deal_move(deal_id=deal.pk, stage=DealStage.PROPOSAL, actor=rep)
    deal.refresh_from_db()
    assert deal.stage == DealStage.PROPOSAL
    assert DealStageChange.objects.filter(deal=deal).latest("id").from_stage == DealStage.QUALIFICATION


@pytest.mark.parametrize("stage", ["won", "lost", "nowhere", "qualification"])
def test_a_deal_cannot_be_moved_to_a_closed_unknown_or_same_stage(rep, stage):
    _assignment, deal = _converted(rep)
    with pytest.raises(ValidationError) as error:
        deal_move(deal_id=deal.pk, stage=stage, actor=rep)
    assert "stage" in error.value.message_dict


def test_another_reps_deal_cannot_be_moved(rep, other_rep):
    _assignment, deal = _converted(other_rep)
    with pytest.raises(ValidationError) as error:
        deal_move(deal_id=deal.pk, stage=DealStage.PROPOSAL, actor=rep)
    assert "not found" in error.value.message_dict["deal_id"][0]


def test_closing_won_makes_a_customer_and_closes_the_assignment(rep):
    assignment, deal = _converted(rep)

    deal_close(deal_id=deal.pk, won=True, actor=rep)

    deal.refresh_from_db()
    assignment.refresh_from_db()
    assert deal.stage == DealStage.WON and deal.closed_at is not None
    assert Lead.objects.get(pk=assignment.lead_id).stage == LifecycleStage.CUSTOMER
    assert deal.account.is_customer and deal.account.next_check_in_on is not None
    assert assignment.status == AssignmentStatus.CLOSED


def test_closing_lost_reports_the_reason_to_marketing(rep):
    assignment, deal = _converted(rep)

    deal_close(deal_id=deal.pk, won=False, lost_reason="competitor", lost_note="Went with X", actor=rep)

    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.lost_note) == (DealStage.LOST, "competitor", "Went with X")
    transition = LeadTransition.objects.filter(lead_id=assignment.lead_id).latest("at", "id")
    assert (transition.to_stage, transition.reason) == (LifecycleStage.RECYCLED, "lost:competitor")


@pytest.mark.parametrize(
    ("reason", "note", "field"),
    [("", "", "lost_reason"), ("bored", "", "lost_reason"), ("other", "", "lost_note")],
)
def test_closing_lost_needs_a_known_reason_and_a_note_for_other(rep, reason, note, field):
    _assignment, deal = _converted(rep)
    with pytest.raises(ValidationError) as error:
        deal_close(deal_id=deal.pk, won=False, lost_reason=reason, lost_note=note, actor=rep)
    assert field in error.value.message_dict
    deal.refresh_from_db()
    assert deal.stage == DealStage.QUALIFICATION


def test_closing_twice_is_an_error(rep):
    _assignment, deal = _converted(rep)
    deal_close(deal_id=deal.pk, won=True, actor=rep)
    with pytest.raises(ValidationError) as error:
        deal_close(deal_id=deal.pk, won=False, lost_reason="price", actor=rep)
    assert "already closed" in error.value.message_dict["stage"][0]
    deal.refresh_from_db()
    assert deal.stage == DealStage.WON


def test_marketing_cannot_close_deals(rep, marketer):
    _assignment, deal = _converted(rep)
    with pytest.raises(PermissionDenied):
        deal_close(deal_id=deal.pk, won=True, actor=marketer)


def test_a_manager_may_close_any_deal(rep, manager):
    _assignment, deal = _converted(rep)
    deal_close(deal_id=deal.pk, won=True, actor=manager)
    deal.refresh_from_db()
    assert deal.stage == DealStage.WON


def test_updating_a_deal_changes_only_the_editable_fields(rep, other_rep):
    _assignment, deal = _converted(rep)
    deal_update(deal_id=deal.pk, actor=rep, amount="500", name="Renamed")
    deal.refresh_from_db()
    assert (deal.amount, deal.name) == (Decimal("500.00"), "Renamed")
    with pytest.raises(ValidationError) as error:
        deal_update(deal_id=deal.pk, actor=rep, owner=other_rep)
    assert "owner" in error.value.message_dict


@pytest.mark.parametrize("won", [True, False])
def test_closing_a_deal_gives_the_freed_place_to_the_queues_waiting_lead_at_once(
    rep, won, monkeypatch, django_capture_on_commit_callbacks
):
    from crm.services.handoff import lead_handoff
    from tests.crm.factories import QueueMembershipFactory, SalesQueueFactory

    run_sent_tasks_inline(monkeypatch)
    queue = SalesQueueFactory(business_days=[0, 1, 2, 3, 4, 5, 6])
    QueueMembershipFactory(queue=queue, rep=rep, capacity=1)
    assignment, deal = _converted(rep, queue=queue)
    waiting = lead_handoff(lead_id=Lead.objects.create(email="next@example.com", stage=LifecycleStage.MQL).pk)
    assert waiting.status == AssignmentStatus.QUEUED

    with django_capture_on_commit_callbacks(execute=True):
        deal_close(deal_id=deal.pk, won=won, lost_reason="" if won else "price", actor=rep)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.rep) == (AssignmentStatus.ASSIGNED, rep)
