"""crm's part of a lead merge (``leads.merging.lead_merge``, registered in ``CrmConfig.ready``):
hand-offs, refusals, the contact, calls, follow-ups, objections, deals and notifications of the
merged lead move to the survivor.

Runs inside the merge's transaction, which has locked both leads already; the assignments and
deals are locked next through ``SalesLocks`` (the sales lock order). At most one active
assignment per lead survives: when both leads have one, the merged lead's is closed with
reason ``merged`` (the survivor's rep keeps the person).
"""

from __future__ import annotations

from django.db.models import Q, Value
from django.db.models.functions import Replace

from leads import api as leads_api

from .locking import SalesLocks
from .models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    Contact,
    Deal,
    FollowUp,
    HandoffRefusal,
    Notification,
    ObjectionNote,
)

CLOSED_MERGED = "merged"


def crm_lead_merge(*, survivor, merged, at, actor=None) -> dict[str, int]:
    locks = SalesLocks()
    locks.leads_held()
    both = [survivor.pk, merged.pk]
    assignments = locks.assignments(Assignment.objects.filter(lead_id__in=both))
    locks.deals(Deal.objects.filter(lead_id__in=both))
    active = {a.lead_id: a for a in assignments if a.status in ACTIVE_ASSIGNMENT_STATUSES}
    closed = 0
    kept_from_merged = None
    if survivor.pk in active and merged.pk in active:
        closed = Assignment.objects.filter(pk=active[merged.pk].pk).update(
            status=AssignmentStatus.CLOSED, closed_at=at, closed_reason=CLOSED_MERGED
        )
    elif merged.pk in active:
        kept_from_merged = active[merged.pk]
    to_survivor = {"lead_id": survivor.pk}
    refusals_there = HandoffRefusal.objects.filter(lead_id=survivor.pk).values("reason")
    counts = {
        "assignments": Assignment.objects.filter(lead_id=merged.pk).update(**to_survivor),
        "assignments_closed": closed,
        "handoff_refusals_already_there": HandoffRefusal.objects.filter(
            lead_id=merged.pk, reason__in=refusals_there
        ).delete()[0],
        "handoff_refusals": HandoffRefusal.objects.filter(lead_id=merged.pk).update(**to_survivor),
        "calls": Call.objects.filter(lead_id=merged.pk).update(**to_survivor),
        "follow_ups": FollowUp.objects.filter(lead_id=merged.pk).update(**to_survivor),
        "objections": ObjectionNote.objects.filter(lead_id=merged.pk).update(**to_survivor),
        "deals": Deal.objects.filter(lead_id=merged.pk).update(**to_survivor),
    }
    # One contact per lead: a second one stays on its account, no longer linked to the lead.
    if Contact.objects.filter(lead_id=survivor.pk).exists():
        counts["contacts_unlinked"] = Contact.objects.filter(lead_id=merged.pk).update(lead=None)
    else:
        counts["contacts"] = Contact.objects.filter(lead_id=merged.pk).update(**to_survivor)
    # Notifications link to the lead's page: /calls/leads/<id>/ (never lead 12 for lead 1).
    old, new = f"/leads/{merged.pk}/", f"/leads/{survivor.pk}/"
    counts["notifications"] = Notification.objects.filter(Q(url__contains=old)).update(
        url=Replace("url", Value(old), Value(new))
    )
    if kept_from_merged is not None and kept_from_merged.rep_id and kept_from_merged.rep_id != survivor.owner_id:
        leads_api.lead_owner_set(lead_id=survivor.pk, owner=kept_from_merged.rep)
    return counts
