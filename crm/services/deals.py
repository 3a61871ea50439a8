"""Deals: converting a lead, moving it through the pipeline, closing it won or lost.

Every outcome is reported to marketing through ``leads.api`` (converted, won, lost), never
by marketing reading these tables.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.roles import is_manager
from config.text_limits import text_lengths_check
from leads import api as leads_api
from leads.api import Lead, LifecycleStage

from ..locking import SalesLocks
from ..models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    OPEN_DEAL_STAGES,
    Account,
    Assignment,
    AssignmentStatus,
    Contact,
    Deal,
    DealStage,
    DealStageChange,
    LostReason,
)
from ..selectors import account_visible_q
from ..signals import sales_events_announce
from .access import _visible_row, contact_for_actor, deal_for_actor, ensure_sales_actor, lead_for_actor
from .handoff import queue_fill_on_commit
from .notifications import NotificationKind, notification_send

# After a win the owner calls the new customer again after this long.
FIRST_CHECK_IN_AFTER = datetime.timedelta(days=90)
MAX_AMOUNT = Decimal("9999999999.99")


def _amount(value, *, field: str = "amount") -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: "Enter the amount as a number."}) from None
    if not amount.is_finite():
        raise ValidationError({field: "Enter the amount as a number."})
    if amount < 0:
        raise ValidationError({field: "The amount cannot be negative."})
    if amount > MAX_AMOUNT:
        raise ValidationError({field: "The amount is too large."})
    return amount.quantize(Decimal("0.01"))


def _account_for_lead(lead: Lead, *, owner) -> Account:
    """The account of the lead's company: reused by domain (case-insensitively), else created.

    Two conversions racing on one new domain meet the unique index; the loser reuses the
    winner's row.
    """
    domain = (lead.company_domain or "").strip().lower()
    if domain:
        existing = Account.objects.filter(domain__iexact=domain).first()
        if existing:
            return existing
    values = {
        "name": lead.company or domain or lead.full_name or lead.email,
        "domain": domain,
        "industry": lead.industry,
        "employees": lead.employees,
        "country": lead.country,
        "owner": owner,
    }
    if not domain:
        return Account.objects.create(**values)
    try:
        with transaction.atomic():
            return Account.objects.create(**values)
    except IntegrityError:
        return Account.objects.get(domain__iexact=domain)


def deal_convert(
    *,
    lead_id: int,
    actor,
    amount,
    name: str = "",
    currency: str = "EUR",
    expected_close_on: datetime.date | None = None,
) -> Deal:
    """Turn an accepted lead (SAL) into account + contact + deal, and the lead into an
    OPPORTUNITY, in one transaction. The account is reused when one with the lead's company
    domain exists. The deal belongs to the lead's owner (the converting rep otherwise)."""
    ensure_sales_actor(actor, action="convert leads")
    amount = _amount(amount)
    now = timezone.now()
    with transaction.atomic():
        lead = lead_for_actor(actor=actor, lead_id=lead_id, lock=True)
        if lead.stage == LifecycleStage.HANDED_OFF:
            raise ValidationError({"lead_id": "Accept the lead before converting it to a deal."})
        if lead.stage != LifecycleStage.SAL:
            raise ValidationError(
                {"lead_id": f"Only an accepted lead can be converted; this one is {LifecycleStage(lead.stage).label}."}
            )
        owner = lead.owner or actor
        account = _account_for_lead(lead, owner=owner)
        contact = Contact.objects.filter(lead=lead).first()
        if contact is None:
            contact = Contact.objects.create(
                account=account,
                lead=lead,
                first_name=lead.first_name,
                last_name=lead.last_name,
                email=lead.email,
                phone=lead.phone,
                title=lead.title,
            )
        deal = Deal.objects.create(
            name=(name or "").strip() or f"{account.name}: {lead.full_name or lead.email}",
            account=account,
            contact=contact,
            lead=lead,
            owner=owner,
            stage=DealStage.QUALIFICATION,
            amount=amount,
            currency=(currency or "EUR").upper()[:3],
            expected_close_on=expected_close_on,
            created_at=now,
        )
        DealStageChange.objects.create(deal=deal, from_stage="", to_stage=deal.stage, actor=actor, at=now)
        leads_api.lead_converted_to_opportunity(lead_id=lead.pk, actor=actor, at=now)
    return deal


def deal_update(*, deal_id: int, actor, **changes) -> Deal:
    """Change what a rep may change on an open deal: name, amount, currency, expected close."""
    ensure_sales_actor(actor, action="change deals")
    allowed = {"name", "amount", "currency", "expected_close_on"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    with transaction.atomic():
        deal = deal_for_actor(actor=actor, deal_id=deal_id, lock=True)
        if deal.is_closed:
            raise ValidationError({"stage": "A closed deal cannot be changed."})
        if "amount" in changes:
            deal.amount = _amount(changes["amount"])
        if "name" in changes:
            if not (changes["name"] or "").strip():
                raise ValidationError({"name": "The deal needs a name."})
            deal.name = changes["name"].strip()
        if "currency" in changes:
            deal.currency = (changes["currency"] or "EUR").upper()[:3]
        if "expected_close_on" in changes:
            deal.expected_close_on = changes["expected_close_on"]
        deal.save()
    return deal


def deal_move(*, deal_id: int, stage: str, actor) -> Deal:
    """Move an open deal to another open stage and record the move."""
    ensure_sales_actor(actor, action="move deals")
    if stage not in OPEN_DEAL_STAGES:
        raise ValidationError(
            {
                "stage": f"'{stage}' is not an open stage; choose one of: {', '.join(OPEN_DEAL_STAGES)}. Close a deal to win or lose it."
            }
        )
    with transaction.atomic():
        deal = deal_for_actor(actor=actor, deal_id=deal_id, lock=True)
        if deal.is_closed:
            raise ValidationError({"stage": f"The deal is already {deal.get_stage_display().lower()}."})
        if deal.stage == stage:
            raise ValidationError({"stage": f"The deal is already in {DealStage(stage).label}."})
        now = timezone.now()
        DealStageChange.objects.create(deal=deal, from_stage=deal.stage, to_stage=stage, actor=actor, at=now)
        deal.stage = stage
        deal.save(update_fields=["stage", "updated_at"])
    return deal


def deal_close(*, deal_id: int, won: bool, actor, lost_reason: str = "", lost_note: str = "") -> Deal:
    """Close a deal won or lost, once.

    Won: the lead becomes a CUSTOMER (``leads.api.lead_won``), the account a customer with a
    first check-in scheduled, the lead's assignment closed. Lost: a reason from
    ``LostReason`` is required (and a note for "other"); the lead goes back to marketing
    (``leads.api.lead_lost``, reason ``lost:<reason>``) and the assignment is closed.
    Closing a closed deal is an error.
    """
    ensure_sales_actor(actor, action="close deals")
    lost_note = (lost_note or "").strip()
    text_lengths_check({"lost_note": lost_note})
    if not won:
        if not lost_reason:
            raise ValidationError({"lost_reason": "Say why the deal was lost."})
        if lost_reason not in LostReason.values:
            raise ValidationError(
                {"lost_reason": f"'{lost_reason}' is not a reason; choose one of: {', '.join(LostReason.values)}."}
            )
        if lost_reason == LostReason.OTHER and not lost_note:
            raise ValidationError({"lost_note": "Describe the reason when it is 'other'."})
    now = timezone.now()
    with transaction.atomic():
        # The crm lock order: the deal's lead, its assignments, the deal, the account.
        locks = SalesLocks()
        lead_id = deal_for_actor(actor=actor, deal_id=deal_id).lead_id
        lead = locks.lead(lead_id) if lead_id is not None else None
        active = (
            locks.assignments(Assignment.objects.filter(lead_id=lead_id, status__in=ACTIVE_ASSIGNMENT_STATUSES))
            if lead_id is not None
            else []
        )
        deal = deal_for_actor(actor=actor, deal_id=deal_id, lock=True, locks=locks)
        if deal.is_closed:
            raise ValidationError({"stage": f"The deal is already closed ({deal.get_stage_display().lower()})."})
        from_stage = deal.stage
        deal.stage = DealStage.WON if won else DealStage.LOST
        deal.closed_at = now
        deal.lost_reason = "" if won else lost_reason
        deal.lost_note = "" if won else lost_note
        deal.save(update_fields=["stage", "closed_at", "lost_reason", "lost_note", "updated_at"])
        DealStageChange.objects.create(deal=deal, from_stage=from_stage, to_stage=deal.stage, actor=actor, at=now)
        sales_events_announce(
            "deal.won" if won else "deal.lost",
            [
                {
                    "deal": deal.pk,
                    "lead": deal.lead_id,
                    "account": deal.account_id,
                    "owner": deal.owner_id,
                    "amount": str(deal.amount),
                    "lost_reason": deal.lost_reason,
                    "closed_at": now.isoformat(),
                }
            ],
        )

        if won:
            account = locks.account(deal.account_id)
            account.is_customer = True
            if account.next_check_in_on is None:
                account.next_check_in_on = timezone.localdate(now + FIRST_CHECK_IN_AFTER)
            if account.owner_id is None:
                account.owner = deal.owner
            account.save(update_fields=["is_customer", "next_check_in_on", "owner"])
            _notify_account_owner_of_win(deal, account=account, actor=actor)

        if lead is not None:
            if lead.stage == LifecycleStage.OPPORTUNITY:
                if won:
                    leads_api.lead_won(lead_id=lead.pk, actor=actor, at=now)
                else:
                    leads_api.lead_lost(lead_id=lead.pk, reason=lost_reason, note=lost_note, actor=actor, at=now)
            Assignment.objects.filter(pk__in=[a.pk for a in active]).update(
                status=AssignmentStatus.CLOSED, closed_at=now
            )
            for queue_id in sorted({a.queue_id for a in active}):
                queue_fill_on_commit(queue_id)
    return deal


def _notify_account_owner_of_win(deal: Deal, *, account: Account, actor) -> None:
    """A deal won on a rep's account by someone else (a colleague, a manager) is news to the
    account's owner; once per deal (the notification key)."""
    if account.owner_id is None or account.owner_id == getattr(actor, "pk", None):
        return
    closer = actor.get_full_name() or actor.get_username()
    notification_send(
        user=account.owner,
        kind=NotificationKind.DEAL_WON,
        message=f"Deal won on your account {account.name}: {deal.name}, {deal.currency} {deal.amount:,.2f} "
        f"(closed by {closer})",
        url=f"/accounts/{account.pk}/",
        key=f"deal_won:{deal.pk}",
    )


def deal_open(
    *,
    account_id: int,
    actor,
    name: str,
    amount,
    currency: str = "EUR",
    expected_close_on: datetime.date | None = None,
    contact_id: int | None = None,
) -> Deal:
    """A new deal on an existing account (a customer buying more): in qualification, owned by
    the account's owner when the actor is a manager, else by the rep. The actor must see the
    account (and the contact, which must be the account's)."""
    ensure_sales_actor(actor, action="open deals")
    amount = _amount(amount)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A deal needs a name."})
    if len(name) > 200:
        raise ValidationError({"name": "At most 200 characters."})
    currency = (currency or "EUR").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationError({"currency": "Use a three-letter currency code such as EUR."})
    now = timezone.now()
    with transaction.atomic():
        account = _visible_row(
            Account.objects.filter(account_visible_q(actor)), pk=account_id, field="account_id", label="Account"
        )
        contact = None
        if contact_id not in (None, ""):
            contact = contact_for_actor(actor=actor, contact_id=contact_id)
            if contact.account_id != account.pk:
                raise ValidationError({"contact_id": "That contact works for another account."})
        owner = account.owner if (is_manager(actor) and account.owner_id) else actor
        deal = Deal.objects.create(
            name=name,
            account=account,
            contact=contact,
            lead=contact.lead if contact is not None else None,
            owner=owner,
            stage=DealStage.QUALIFICATION,
            amount=amount,
            currency=currency,
            expected_close_on=expected_close_on,
            created_at=now,
        )
        DealStageChange.objects.create(deal=deal, from_stage="", to_stage=deal.stage, actor=actor, at=now)
    return deal
