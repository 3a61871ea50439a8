"""Subject access and erasure of one person. Each app exports and erases its own rows through
its ``api`` (``leads``: the lead, consent, events, transitions; ``campaigns``: memberships,
collateral shares and views, feedback; ``crm``: contact, hand-offs, calls, objections, deals,
notifications; ``integrations``: webhook payloads and the delivery log); this module only puts
them together."""

from __future__ import annotations

import datetime
import json

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from campaigns import api as campaigns_api
from config.roles import is_manager
from crm import api as crm_api
from integrations import api as integrations_api
from leads import api as leads_api

from .models import ErasureAudit

EXPORT_FORMAT = "baton.subject-access/1"


def _ensure_manager(actor, action: str) -> None:
    if actor is None or not is_manager(actor):
        raise PermissionDenied(f"Only sales managers can {action}.")


def subject_access_export(*, lead_id: int, actor) -> dict:
    """Everything Baton holds about the person behind the lead: the lead, consent records,
    engagement events, stage transitions, campaign memberships, collateral shares and their
    views, feedback, the contact, hand-offs, calls, objections, follow-ups and deals."""
    _ensure_manager(actor, "export a person's data")
    leads_part = leads_api.privacy_lead_export(lead_id)
    email = leads_part["lead"]["email"]
    return {
        "format": EXPORT_FORMAT,
        "generated_at": timezone.now(),
        "generated_by": actor.get_username(),
        **leads_part,
        **campaigns_api.privacy_campaigns_export(lead_id),
        **crm_api.privacy_crm_export(lead_id, email=email),
    }


def subject_access_json(data: dict) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)


class ConfirmationNeeded(ValidationError):
    """The person has an open deal: erasing them needs the manager's explicit confirmation."""


def person_erase(*, lead_id: int, actor, confirm_open_deal: bool = False, reason: str = "request") -> ErasureAudit:
    """Erase the person behind the lead everywhere (each app anonymises its own rows) in one
    transaction, and write one audit row without personal data. Rows the reports count stay
    (anonymised), so report totals are the same before and after. A person with an open deal
    is erased only with ``confirm_open_deal``; an erased lead cannot be erased again."""
    if reason == "request":
        _ensure_manager(actor, "erase a person")
    with transaction.atomic():
        lead = leads_api.lead_lock(lead_id=lead_id)
        if lead is None:
            raise ValidationError({"lead_id": "Lead not found."})
        if lead.erased_at is not None:
            raise ValidationError({"lead_id": "This lead was already erased."})
        open_deals = crm_api.privacy_crm_open_deals(lead_id)
        if open_deals and not confirm_open_deal:
            raise ConfirmationNeeded(
                {"confirm_open_deal": f"This person has {open_deals} open deal(s); confirm to erase anyway."}
            )
        now = timezone.now()
        terms = leads_api.privacy_lead_personal_terms(lead_id)
        counts = {}
        counts.update(crm_api.privacy_crm_erase(lead_id, email=lead.email, terms=terms))
        counts.update(campaigns_api.privacy_campaigns_erase(lead_id, at=now))
        counts.update(
            integrations_api.privacy_integrations_erase(
                lead_id, terms=terms, email=lead.email, erased_email=leads_api.privacy_erased_email(lead_id)
            )
        )
        counts.update(leads_api.privacy_lead_erase(lead_id, at=now))
        return ErasureAudit.objects.create(
            lead_id=lead_id,
            erased_by=actor if getattr(actor, "is_authenticated", False) else None,
            erased_at=now,
            reason=reason,
            had_open_deal=bool(open_deals),
            rows_changed=counts,
        )


def retention_cutoff(now=None):
    return (now or timezone.now()) - datetime.timedelta(days=settings.PRIVACY_RETENTION_DAYS)


def retention_due_count(now=None) -> int:
    return leads_api.privacy_retention_due(cutoff=retention_cutoff(now)).count()


def retention_run(*, now=None, limit: int | None = None) -> dict:
    """The beat job: anonymise (erase, reason ``retention``) up to ``limit`` unconverted leads
    with no activity for ``PRIVACY_RETENTION_DAYS``; each in its own transaction, each with
    its audit row. A lead that gained an open deal meanwhile is skipped (a person with an
    open deal is only erased by a manager who confirms). Safe to run twice at once: the lead
    lock and the "already erased" check make a repeat a no-op."""
    limit = limit or settings.PRIVACY_RETENTION_BATCH
    ids = list(leads_api.privacy_retention_due(cutoff=retention_cutoff(now)).values_list("pk", flat=True)[:limit])
    erased = skipped = 0
    for lead_id in ids:
        try:
            person_erase(lead_id=lead_id, actor=None, reason="retention")
            erased += 1
        except ValidationError:
            skipped += 1
    return {"due": len(ids), "erased": erased, "skipped": skipped}
