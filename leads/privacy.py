"""What `leads` holds about one person, for the privacy app: the subject access export and the
erasure of marketing's own rows (the lead, its consent records, events and transitions)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .models import LEAD_PROFILE_FIELDS, ConsentRecord, EngagementEvent, Lead, LeadTransition, LifecycleStage

# Never converted: still with marketing, or disqualified. Leads with sales (handed off and on)
# are sales' business and are never removed by retention.
RETENTION_STAGES = (
    LifecycleStage.NEW,
    LifecycleStage.ENGAGED,
    LifecycleStage.MQL,
    LifecycleStage.RECYCLED,
    LifecycleStage.DISQUALIFIED,
)

LEAD_EXPORT_FIELDS = (
    "id",
    *LEAD_PROFILE_FIELDS,
    "custom_attributes",
    "email_opt_in",
    "do_not_call",
    "do_not_contact",
    "do_not_profile",
    "stage",
    "fit_score",
    "engagement_score",
    "learned_score",
    "score",
    "score_breakdown",
    "qualified_at",
    "owner__username",
    "created_at",
    "updated_at",
    "erased_at",
)
# Kept by an erasure: what the reports count and group by (stage, source, firmographics that
# identify nobody on their own, scores, dates). Everything else personal is blanked.
ERASED_BLANK = {
    "first_name": "",
    "last_name": "",
    "phone": "",
    "title": "",
    "company": "",
    "company_domain": "",
    "custom_attributes": {},
    "score_breakdown": [],
}
ERASED_EMAIL_DOMAIN = "erased.invalid"


def erased_email(lead_id: int) -> str:
    return f"erased-{lead_id}@{ERASED_EMAIL_DOMAIN}"


def person_find_q(term: str) -> Q:
    """Leads matching a manager's search for a person: e-mail (exact, any case) or a part of
    the name, e-mail, phone or company."""
    term = term.strip()
    q = Q(email__iexact=term) | Q(email__icontains=term) | Q(company__icontains=term) | Q(phone__icontains=term)
    for word in term.split()[:3]:
        q |= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    return q


def privacy_lead_find(term: str, *, limit: int = 20) -> list[Lead]:
    if not term.strip():
        return []
    return list(Lead.objects.filter(person_find_q(term)).exclude(erased_at__isnull=False).order_by("email")[:limit])


def privacy_lead_export(lead_id: int) -> dict:
    """Everything `leads` holds about the lead, as JSON-ready values (datetimes stay datetimes;
    the caller encodes them)."""
    lead = Lead.objects.filter(pk=lead_id).values(*LEAD_EXPORT_FIELDS).first()
    if lead is None:
        raise Lead.DoesNotExist(f"Lead {lead_id} does not exist.")
    lead["owner"] = lead.pop("owner__username")
    return {
        "lead": lead,
        "consents": list(
            ConsentRecord.objects.filter(lead_id=lead_id)
            .order_by("recorded_at", "id")
            .values("purpose", "granted", "source", "recorded_at", "evidence", "actor__username")
        ),
        "events": list(
            EngagementEvent.objects.filter(lead_id=lead_id)
            .order_by("occurred_at", "id")
            .values("kind", "occurred_at", "points", "source_reference")
        ),
        "transitions": list(
            LeadTransition.objects.filter(lead_id=lead_id)
            .order_by("at", "id")
            .values("from_stage", "to_stage", "reason", "note", "at", "actor__username")
        ),
    }


def privacy_lead_personal_terms(lead_id: int) -> list[str]:
    """The strings that name the person (for scrubbing free text in their own records)."""
    lead = Lead.objects.filter(pk=lead_id).values("first_name", "last_name", "email", "phone", "company").first()
    if lead is None:
        return []
    full = f"{lead['first_name']} {lead['last_name']}".strip()
    terms = [full, lead["email"], lead["phone"], lead["first_name"], lead["last_name"]]
    return sorted({t for t in terms if t and len(t) >= 2}, key=len, reverse=True)


def privacy_lead_erase(lead_id: int, *, at=None) -> dict[str, int]:
    """Anonymise the lead in place (the row stays so that report totals do not move): personal
    fields blanked, the e-mail replaced by ``erased-<id>@erased.invalid``, every consent flag
    set to "never contact", free text of its transitions and the evidence of its consent
    records removed, external event references dropped. Returns rows changed per kind."""
    at = at or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        for name, value in ERASED_BLANK.items():
            setattr(lead, name, value)
        lead.email = erased_email(lead.pk)
        lead.email_opt_in = False
        lead.do_not_call = lead.do_not_contact = lead.do_not_profile = True
        lead.learned_score = None
        lead.erased_at = at
        lead.save()
        counts = {"lead": 1}
        counts["consents"] = ConsentRecord.objects.filter(lead_id=lead_id).exclude(evidence="").update(evidence="")
        counts["transitions"] = LeadTransition.objects.filter(lead_id=lead_id).exclude(note="").update(note="")
        # Campaign ids and share references are Baton's own (reports read the campaign id);
        # anything else came from an outside system and may name the person there.
        events = []
        for event in (
            EngagementEvent.objects.filter(lead_id=lead_id).exclude(source_reference="").only("pk", "source_reference")
        ):
            parts = event.source_reference.split(":")
            if parts[0] == "share":
                continue
            if parts[0] == "campaign" and len(parts) > 1:
                kept = f"campaign:{parts[1]}" + (f":erased-{event.pk}" if len(parts) > 2 else "")
            else:
                kept = f"erased:{event.pk}"
            if kept != event.source_reference:
                event.source_reference = kept
                events.append(event)
        EngagementEvent.objects.bulk_update(events, ["source_reference"])
        counts["events"] = len(events)
    return counts


def privacy_retention_due(*, cutoff):
    """Leads due for anonymisation by the retention job: unconverted (``RETENTION_STAGES``), not
    erased yet, and with no activity (entered, engaged or changed stage) since ``cutoff``. A
    queryset ordered by id (the job takes them in batches)."""
    last_activity = Greatest(
        "created_at", Coalesce("last_engaged_at", "created_at"), Coalesce("stage_changed_at", "created_at")
    )
    return (
        Lead.objects.filter(stage__in=RETENTION_STAGES, erased_at__isnull=True, created_at__lt=cutoff)
        .alias(last_activity=last_activity)
        .filter(last_activity__lt=cutoff)
        .order_by("pk")
    )
