"""What `crm` holds about one person (contact, hand-offs, calls, objections, follow-ups,
deals, notifications about them), for the privacy app's subject access export and erasure."""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import Q

from .models import Assignment, Call, Contact, Deal, EmailOutbox, FollowUp, Notification, ObjectionNote

REDACTED = "[erased]"


def _contacts_q(lead_id: int, email: str) -> Q:
    q = Q(lead_id=lead_id)
    return q | Q(email__iexact=email) if email else q


def _lead_url_q(lead_id: int) -> Q:
    # Notifications link to the lead page; /calls/leads/1/ must not match lead 12.
    return Q(url__contains=f"/leads/{lead_id}/")


def privacy_crm_open_deals(lead_id: int) -> int:
    return Deal.objects.filter(lead_id=lead_id).open().count()


def privacy_crm_export(lead_id: int, *, email: str = "") -> dict:
    contacts = Contact.objects.filter(_contacts_q(lead_id, email))
    contact_ids = list(contacts.values_list("pk", flat=True))
    person = Q(lead_id=lead_id) | Q(contact_id__in=contact_ids)
    return {
        "contacts": list(
            contacts.order_by("id").values(
                "first_name", "last_name", "email", "phone", "title", "account__name", "created_at"
            )
        ),
        "assignments": list(
            Assignment.objects.filter(lead_id=lead_id)
            .order_by("handed_off_at", "id")
            .values(
                "queue__name",
                "rep__username",
                "status",
                "handed_off_at",
                "accepted_at",
                "first_touch_at",
                "rejected_at",
                "rejected_reason",
                "rejected_note",
                "closed_at",
            )
        ),
        "calls": list(
            Call.objects.filter(person)
            .order_by("called_at", "id")
            .values("id", "rep__username", "outcome", "duration_seconds", "notes", "called_at", "next_step_at")
        ),
        "objections": list(
            ObjectionNote.objects.filter(Q(lead_id=lead_id) | Q(call__contact_id__in=contact_ids))
            .order_by("id")
            .values("call_id", "category", "said", "response", "overcome", "collateral__title")
        ),
        "follow_ups": list(
            FollowUp.objects.filter(person)
            .order_by("due_at", "id")
            .values("kind", "due_at", "done_at", "rep__username")
        ),
        "deals": list(
            Deal.objects.filter(Q(lead_id=lead_id) | Q(contact_id__in=contact_ids))
            .order_by("created_at", "id")
            .values("name", "stage", "amount", "currency", "created_at", "closed_at", "lost_reason", "lost_note")
        ),
    }


def scrub(text: str, terms: list[str]) -> str:
    """``text`` with every occurrence of the terms (any case) replaced by [erased]."""
    for term in terms:
        text = re.sub(re.escape(term), REDACTED, text, flags=re.IGNORECASE)
    return text


def privacy_crm_erase(lead_id: int, *, email: str, terms: list[str]) -> dict[str, int]:
    """Keep every row the reports count (calls with outcome, duration and time; objections with
    category and overcome; deals with stage and amount; assignments with their times) and
    remove what identifies the person: contact fields, call notes, objection text, rejection
    and lost notes, deal names that name them, and the text of notifications and their e-mails
    about the lead (the names in them are replaced by [erased])."""
    with transaction.atomic():
        contacts = Contact.objects.filter(_contacts_q(lead_id, email))
        contact_ids = list(contacts.values_list("pk", flat=True))
        person = Q(lead_id=lead_id) | Q(contact_id__in=contact_ids)
        counts = {
            "contacts": contacts.update(first_name="", last_name="", email="", phone="", title=""),
            "calls": Call.objects.filter(person).exclude(notes="").update(notes=""),
            "objections": ObjectionNote.objects.filter(Q(lead_id=lead_id) | Q(call__contact_id__in=contact_ids))
            .exclude(said="", response="")
            .update(said="", response=""),
            "assignments": Assignment.objects.filter(lead_id=lead_id)
            .exclude(rejected_note="")
            .update(rejected_note=""),
        }
        deals = list(Deal.objects.filter(Q(lead_id=lead_id) | Q(contact_id__in=contact_ids)))
        for deal in deals:
            deal.name = scrub(deal.name, terms)
            deal.lost_note = ""
        Deal.objects.bulk_update(deals, ["name", "lost_note"])
        counts["deals"] = len(deals)
        notifications = list(Notification.objects.filter(_lead_url_q(lead_id)))
        for note in notifications:
            note.message = scrub(note.message, terms)
        Notification.objects.bulk_update(notifications, ["message"])
        counts["notifications"] = len(notifications)
        mails = list(EmailOutbox.objects.filter(notification__in=notifications))
        for mail in mails:
            mail.subject, mail.body = scrub(mail.subject, terms), scrub(mail.body, terms)
        EmailOutbox.objects.bulk_update(mails, ["subject", "body"])
        counts["emails"] = len(mails)
    return counts
