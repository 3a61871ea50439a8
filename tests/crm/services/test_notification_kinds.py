"""The notification kinds beside assignment / breach / reassignment: the SLA warning before a
breach, collateral viewed by a lead, a deal won on a rep's account. Each is sent once."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.services.collateral import collateral_view_record
from crm.models import Assignment, Notification
from crm.services.deals import _notify_account_owner_of_win, deal_close, deal_convert
from crm.services.handoff import _assigned_message, sla_check, sla_text, sla_warn
from crm.services.notifications import NotificationKind, notification_send
from crm.tasks import sla_warn_task
from tests.campaigns.factories import CollateralFactory, CollateralShareFactory
from tests.crm.factories import AssignmentFactory, SalesQueueFactory
from tests.crm.sales_fixtures import accepted_lead, assigned_lead
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _at(minutes):
    return timezone.now() + datetime.timedelta(minutes=minutes)


def _sla(rep, *, assigned_minutes_ago, sla_minutes=60, **kw):
    start = _at(-assigned_minutes_ago)
    return assigned_lead(
        rep,
        first_name="Vera",
        last_name="Teixeira",
        assignment={
            "handed_off_at": start,
            "assigned_at": start,
            "sla_due_at": start + datetime.timedelta(minutes=sla_minutes),
            **kw,
        },
    )


# --- the new-lead notice --------------------------------------------------------------------


@pytest.mark.parametrize("minutes, text", [(240, "4 h"), (90, "1.5 h"), (60, "1 h"), (45, "45 min")])
def test_the_new_lead_notice_names_the_lead_and_the_sla_in_hours(minutes, text):
    assignment = AssignmentFactory.build(
        lead=LeadFactory.build(first_name="Vera", last_name="Teixeira"),
        queue=SalesQueueFactory.build(sla_minutes=minutes),
    )
    assert sla_text(minutes) == text
    assert _assigned_message(assignment) == f"New lead: Vera Teixeira, SLA {text}"


# --- SLA warning ----------------------------------------------------------------------------


def test_a_rep_is_warned_once_at_three_quarters_of_the_sla(rep):
    early = _sla(rep, assigned_minutes_ago=30)  # 50 %: not yet
    late = _sla(rep, assigned_minutes_ago=46)  # 77 %

    assert sla_warn() == 1
    assert sla_warn() == 0  # a re-run sends nothing
    assert sla_warn_task() == 0

    warning = Notification.objects.get(kind=NotificationKind.SLA_WARNING)
    assert warning.user == rep and warning.key == f"sla_warning:{late.pk}"
    assert warning.message.startswith("SLA warning: call Vera Teixeira within 1")
    assert warning.url == f"/calls/leads/{late.lead_id}/"
    assert Assignment.objects.get(pk=late.pk).sla_warned_at is not None
    assert Assignment.objects.get(pk=early.pk).sla_warned_at is None


@pytest.mark.parametrize(
    "extra",
    [
        {"first_touch_at": "now"},  # already called
        {"sla_breached_at": "now"},  # too late for a warning
        {"sla_due_at": "past"},  # overdue: the breach is sla_check's
        {"status": "reassigned"},
    ],
)
def test_no_warning_for_a_called_breached_or_overdue_lead(rep, extra):
    values = {"now": timezone.now(), "past": _at(-1)}
    kw = {k: values.get(v, v) for k, v in extra.items() if k != "status"}
    assignment = _sla(rep, assigned_minutes_ago=50, **kw)
    if extra.get("status"):
        Assignment.objects.filter(pk=assignment.pk).update(status="reassigned", closed_at=timezone.now())
    assert sla_warn() == 0
    assert not Notification.objects.filter(kind=NotificationKind.SLA_WARNING).exists()


def test_the_warning_is_not_sent_twice_even_if_the_stamp_is_lost(rep):
    assignment = _sla(rep, assigned_minutes_ago=50)
    sla_warn()
    Assignment.objects.filter(pk=assignment.pk).update(sla_warned_at=None)

    sla_warn()

    assert Notification.objects.filter(key=f"sla_warning:{assignment.pk}").count() == 1


def test_the_warning_runs_a_constant_number_of_queries(rep, other_rep):
    for _ in range(2):
        _sla(rep, assigned_minutes_ago=50)
    with CaptureQueriesContext(connection) as few:
        sla_warn()
    for _ in range(8):
        _sla(other_rep, assigned_minutes_ago=50)
    with CaptureQueriesContext(connection) as many:
        assert sla_warn() == 8
    assert len(many) == len(few)


def test_a_warned_lead_still_breaches_later(rep):
    assignment = _sla(rep, assigned_minutes_ago=50)
    sla_warn()
    Assignment.objects.filter(pk=assignment.pk).update(sla_due_at=_at(-1))
    assert sla_check() == 1


# --- collateral viewed ----------------------------------------------------------------------


def test_the_leads_rep_hears_of_the_first_view_of_a_shared_item_only(rep, other_rep):
    lead = LeadFactory(owner=rep, first_name="Vera", last_name="Teixeira")
    share = CollateralShareFactory(lead=lead, shared_by=other_rep, collateral=CollateralFactory(title="Pricing sheet"))

    collateral_view_record(share=share)
    collateral_view_record(share=share)

    notice = Notification.objects.get(kind=NotificationKind.COLLATERAL_VIEWED)
    assert notice.user == rep  # the lead's rep, not whoever shared it
    assert notice.message == "Vera Teixeira opened “Pricing sheet”"
    assert notice.key == f"collateral_viewed:{share.pk}" and notice.url == f"/calls/leads/{lead.pk}/"


def test_a_lead_without_an_owner_tells_whoever_shared_the_link(rep):
    share = CollateralShareFactory(lead=LeadFactory(owner=None), shared_by=rep)
    collateral_view_record(share=share)
    assert Notification.objects.get(kind=NotificationKind.COLLATERAL_VIEWED).user == rep


def test_each_shared_item_is_its_own_notification(rep):
    lead = LeadFactory(owner=rep)
    for share in (CollateralShareFactory(lead=lead), CollateralShareFactory(lead=lead)):
        collateral_view_record(share=share)
    assert Notification.objects.filter(user=rep, kind=NotificationKind.COLLATERAL_VIEWED).count() == 2


def test_a_view_through_the_public_link_notifies(client, rep):
    share = CollateralShareFactory(lead=LeadFactory(owner=rep))
    assert client.get(f"/c/{share.token}/").status_code == 302
    assert Notification.objects.filter(user=rep, kind=NotificationKind.COLLATERAL_VIEWED).count() == 1


# --- deal won -------------------------------------------------------------------------------


def _deal(rep):
    assignment = accepted_lead(rep)
    return deal_convert(lead_id=assignment.lead_id, actor=rep, amount="116204")


def test_the_account_owner_hears_of_a_deal_won_by_someone_else(rep, manager):
    deal = _deal(rep)

    deal_close(deal_id=deal.pk, won=True, actor=manager)

    notice = Notification.objects.get(kind=NotificationKind.DEAL_WON)
    assert notice.user == rep and notice.key == f"deal_won:{deal.pk}"
    assert f"Deal won on your account {deal.account.name}: {deal.name}, EUR 116,204.00" in notice.message
    assert notice.url == f"/accounts/{deal.account_id}/"


def test_closing_ones_own_deal_sends_no_deal_won_notice(rep):
    deal = _deal(rep)
    deal_close(deal_id=deal.pk, won=True, actor=rep)
    assert not Notification.objects.filter(kind=NotificationKind.DEAL_WON).exists()


def test_a_lost_deal_sends_no_deal_won_notice(rep, manager):
    deal = _deal(rep)
    deal_close(deal_id=deal.pk, won=False, lost_reason="price", actor=manager)
    assert not Notification.objects.filter(kind=NotificationKind.DEAL_WON).exists()


def test_the_deal_won_notice_is_sent_once(rep, manager):
    deal = _deal(rep)
    deal_close(deal_id=deal.pk, won=True, actor=manager)
    deal.refresh_from_db()
    _notify_account_owner_of_win(deal, account=deal.account, actor=manager)  # a re-run
    assert Notification.objects.filter(kind=NotificationKind.DEAL_WON).count() == 1


# --- keys ------------------------------------------------------------------------------------


def test_a_keyed_notification_is_sent_once_with_one_email(rep):
    first = notification_send(user=rep, kind="x", message="Once", key="test:1")
    again = notification_send(user=rep, kind="x", message="Once", key="test:1")
    assert first is not None and again is None
    assert Notification.objects.filter(key="test:1").count() == 1
    assert first.email_outbox is not None


def test_unkeyed_notifications_are_never_deduplicated(rep):
    notification_send(user=rep, kind="x", message="Same")
    notification_send(user=rep, kind="x", message="Same")
    assert Notification.objects.filter(message="Same").count() == 2


def test_a_key_sent_by_a_concurrent_transaction_is_dropped_not_raised(rep, monkeypatch):
    """The unique key is the last word: the existence check passed, then another transaction
    committed the same key first."""
    monkeypatch.setattr("crm.services.notifications._not_sent_yet", lambda items: items)
    notification_send(user=rep, kind="x", message="First", key="race:1")

    sent = notification_send(user=rep, kind="x", message="Second", key="race:1")

    assert sent is None
    assert list(Notification.objects.filter(key="race:1").values_list("message", flat=True)) == ["First"]
