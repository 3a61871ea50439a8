"""Reads for the account and contact pages: one account or contact with its people, deals,
calls and objections, campaigns, feedback and check-ins, under the row rules of
``crm.selectors`` (a rep sees their own accounts, calls and deals; managers everything).
A fixed number of queries per page, however many contacts, calls or deals there are."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Count, Prefetch, Q, QuerySet

from campaigns.api import CampaignMember, CustomerFeedback

from .models import (
    OPEN_DEAL_STAGES,
    Account,
    Call,
    Contact,
    Deal,
    DealStage,
    FollowUp,
    FollowUpKind,
    ObjectionNote,
)
from .selectors import account_visible_q, call_visible_q, contact_visible_q, deal_visible_q

PAGE_CALLS = 25
PAGE_FEEDBACK = 20


def account_get_for_user(*, user, account_id) -> Account | None:
    return Account.objects.filter(account_visible_q(user)).select_related("owner").filter(pk=account_id).first()


def contact_get_for_user(*, user, contact_id) -> Contact | None:
    return (
        Contact.objects.filter(contact_visible_q(user))
        .select_related("account__owner", "lead")
        .filter(pk=contact_id)
        .first()
    )


def account_list_page_for_user(*, user) -> QuerySet[Account]:
    """The accounts list: each with its contact count and open pipeline."""
    return (
        Account.objects.filter(account_visible_q(user))
        .select_related("owner")
        .annotate(
            contact_count=Count("contacts", distinct=True),
            open_deals=Count("deals", filter=Q(deals__stage__in=OPEN_DEAL_STAGES), distinct=True),
        )
        .order_by("name", "id")
    )


@dataclass
class DealTotals:
    open_count: int = 0
    open_amount: Decimal = Decimal(0)
    won_amount: Decimal = Decimal(0)
    currency: str = "EUR"


@dataclass
class RelationshipData:
    contacts: list[Contact] = field(default_factory=list)
    open_deals: list[Deal] = field(default_factory=list)
    closed_deals: list[Deal] = field(default_factory=list)
    totals: DealTotals = field(default_factory=DealTotals)
    calls: list[Call] = field(default_factory=list)
    objections: list[ObjectionNote] = field(default_factory=list)
    memberships: list = field(default_factory=list)
    feedback: list = field(default_factory=list)
    feedback_average: float | None = None
    check_ins: list[FollowUp] = field(default_factory=list)


def _deals(data: RelationshipData, deals) -> None:
    for deal in deals:
        (data.open_deals if deal.stage in OPEN_DEAL_STAGES else data.closed_deals).append(deal)
    data.totals.open_count = len(data.open_deals)
    data.totals.open_amount = sum((d.amount for d in data.open_deals), Decimal(0))
    data.totals.won_amount = sum((d.amount for d in data.closed_deals if d.stage == DealStage.WON), Decimal(0))
    if deals:
        data.totals.currency = deals[0].currency


def _relationship(*, user, contact_q: Q, call_q: Q, deal_q: Q, lead_ids: list[int]) -> RelationshipData:
    data = RelationshipData()
    _deals(
        data,
        list(
            Deal.objects.filter(deal_visible_q(user))
            .filter(deal_q)
            .select_related("owner", "contact")
            .order_by("-created_at", "-id")
        ),
    )
    data.calls = list(
        Call.objects.filter(call_visible_q(user))
        .filter(call_q)
        .select_related("rep", "contact", "lead")
        .prefetch_related(Prefetch("objections", queryset=ObjectionNote.objects.select_related("collateral")))
        .order_by("-called_at", "-id")[:PAGE_CALLS]
    )
    data.objections = [note for call in data.calls for note in call.objections.all()]
    if lead_ids:
        data.memberships = list(
            CampaignMember.objects.filter(lead_id__in=lead_ids).select_related("campaign").order_by("-added_at", "-id")
        )
        feedback = CustomerFeedback.objects.filter(lead_id__in=lead_ids)
        data.feedback = list(
            feedback.select_related("campaign", "entered_by").order_by("-created_at", "-id")[:PAGE_FEEDBACK]
        )
        data.feedback_average = feedback.aggregate(avg=Avg("rating"))["avg"]
    data.check_ins = list(
        FollowUp.objects.open()
        .filter(contact_q)
        .filter(kind=FollowUpKind.CHECK_IN)
        .select_related("contact", "rep")
        .order_by("due_at", "id")
    )
    return data


def account_page_data(*, user, account: Account) -> RelationshipData:
    contacts = list(account.contacts.select_related("lead").order_by("last_name", "first_name", "id"))
    lead_ids = [c.lead_id for c in contacts if c.lead_id]
    data = _relationship(
        user=user,
        contact_q=Q(contact__account=account),
        call_q=Q(contact__account=account) | Q(lead_id__in=lead_ids),
        deal_q=Q(account=account),
        lead_ids=lead_ids,
    )
    data.contacts = contacts
    return data


def contact_page_data(*, user, contact: Contact) -> RelationshipData:
    lead_ids = [contact.lead_id] if contact.lead_id else []
    call_q = Q(contact=contact) | Q(lead_id__in=lead_ids) if lead_ids else Q(contact=contact)
    deal_q = Q(contact=contact) | Q(lead_id__in=lead_ids) if lead_ids else Q(contact=contact)
    return _relationship(user=user, contact_q=Q(contact=contact), call_q=call_q, deal_q=deal_q, lead_ids=lead_ids)
