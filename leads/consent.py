"""Consent per person and purpose, and the lead flags derived from it.

Every grant or withdrawal is a ``ConsentRecord`` (append-only). The latest record per purpose
decides the lead's flags, which every other part of Baton already reads (call lists, the
hand-off, campaign sends, exports, the API, the learned scorer):

- calls withdrawn -> ``do_not_call``; granted -> not.
- e-mail marketing granted -> ``email_opt_in``; withdrawn -> not.
- profiling withdrawn -> ``do_not_profile`` (the learned model no longer scores the lead).
- calls and e-mail marketing both withdrawn -> ``do_not_contact``; either granted -> not.

A purpose without any record leaves its flag as it was (leads from before consent records).
"""

from __future__ import annotations

import datetime

from django.core import signing
from django.db import transaction
from django.utils import timezone

from .models import ConsentPurpose, ConsentRecord, ConsentSource, Lead
from .scoring import lead_score

P = ConsentPurpose
ALL_PURPOSES = tuple(P.values)
CONTACT_PURPOSES = (P.CALLS, P.EMAIL_MARKETING)
UNSUBSCRIBE_SALT = "baton.unsubscribe"
FLAG_FIELDS = ("email_opt_in", "do_not_call", "do_not_contact", "do_not_profile")


def consent_changes_from_flags(values: dict, *, tighten_only: bool = False) -> list[tuple[str, bool]]:
    """The consent changes that the flag columns of a form, an import row or an API payload
    state. ``tighten_only`` (forms, events): only a yes counts, so a form never clears an
    opt-out and a missing box is not a refusal."""
    changes: dict[str, bool] = {}
    opt_in = values.get("email_opt_in")
    if opt_in is True or (opt_in is False and not tighten_only):
        changes[P.EMAIL_MARKETING] = opt_in
    no_call = values.get("do_not_call")
    if no_call is True:
        changes[P.CALLS] = False
    elif no_call is False and not tighten_only:
        changes[P.CALLS] = True
    no_profile = values.get("do_not_profile")
    if no_profile is True:
        changes[P.PROFILING] = False
    elif no_profile is False and not tighten_only:
        changes[P.PROFILING] = True
    if values.get("do_not_contact") is True:
        changes[P.CALLS] = False
        changes[P.EMAIL_MARKETING] = False
    return list(changes.items())


def latest_consents(lead_id: int) -> dict[str, ConsentRecord]:
    """The latest record of each purpose that has one."""
    latest: dict[str, ConsentRecord] = {}
    for record in ConsentRecord.objects.filter(lead_id=lead_id).order_by("purpose", "-recorded_at", "-id"):
        latest.setdefault(record.purpose, record)
    return latest


def flags_from_consents(lead: Lead, latest: dict[str, ConsentRecord]) -> dict[str, bool]:
    """The lead's flag values that the latest records imply (only the flags that change)."""
    wanted: dict[str, bool] = {}
    calls, email, profiling = (latest.get(p) for p in (P.CALLS, P.EMAIL_MARKETING, P.PROFILING))
    if calls is not None:
        wanted["do_not_call"] = not calls.granted
    if email is not None:
        wanted["email_opt_in"] = email.granted
    if profiling is not None:
        wanted["do_not_profile"] = not profiling.granted
    if calls is not None and email is not None and not calls.granted and not email.granted:
        wanted["do_not_contact"] = True
    elif (calls is not None and calls.granted) or (email is not None and email.granted):
        wanted["do_not_contact"] = False
    return {name: value for name, value in wanted.items() if getattr(lead, name) != value}


def consents_record(
    *,
    lead_id: int,
    changes: list[tuple[str, bool]],
    source: str,
    evidence: str = "",
    actor=None,
    at: datetime.datetime | None = None,
) -> list[ConsentRecord]:
    """Record consent changes for one lead and re-derive its flags in the same transaction,
    under the lead's row lock (so two changes at once cannot leave flags that disagree with
    the latest records). Withdrawing profiling clears the learned score at once and re-scores
    the lead; withdrawing calls or contact takes the lead off call lists and the hand-off at
    once because those read the flags."""
    if not changes:
        return []
    for purpose, _granted in changes:
        if purpose not in ALL_PURPOSES:
            raise ValueError(f"'{purpose}' is not a consent purpose ({', '.join(ALL_PURPOSES)}).")
    if source not in ConsentSource.values:
        raise ValueError(f"'{source}' is not a consent source.")
    at = at or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        records = ConsentRecord.objects.bulk_create(
            ConsentRecord(
                lead=lead,
                purpose=purpose,
                granted=granted,
                source=source,
                evidence=evidence,
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                recorded_at=at,
            )
            for purpose, granted in changes
        )
        _flags_apply(lead)
    return records


def _flags_apply(lead: Lead) -> dict[str, bool]:
    changed = flags_from_consents(lead, latest_consents(lead.pk))
    if not changed:
        return changed
    for name, value in changed.items():
        setattr(lead, name, value)
    update = [*changed, "updated_at"]
    if changed.get("do_not_profile"):
        lead.learned_score = None
        update.append("learned_score")
    lead.save(update_fields=update)
    if "do_not_profile" in changed:
        lead_score(lead_id=lead.pk)
    return changed


def consents_record_many(*, rows: list[tuple[int, list[tuple[str, bool]]]], source: str, evidence_for) -> int:
    """Imports: record the consent changes of many leads at once and write the flags the
    latest records imply (a constant number of queries per batch). ``evidence_for(lead_id)``
    gives each lead's evidence text."""
    rows = [(lead_id, changes) for lead_id, changes in rows if changes]
    if not rows:
        return 0
    now = timezone.now()
    created = ConsentRecord.objects.bulk_create(
        ConsentRecord(
            lead_id=lead_id,
            purpose=purpose,
            granted=granted,
            source=source,
            evidence=evidence_for(lead_id),
            recorded_at=now,
        )
        for lead_id, changes in rows
        for purpose, granted in changes
    )
    ids = [lead_id for lead_id, _changes in rows]
    latest: dict[int, dict[str, ConsentRecord]] = {}
    for record in ConsentRecord.objects.filter(lead_id__in=ids).order_by("lead_id", "purpose", "-recorded_at", "-id"):
        latest.setdefault(record.lead_id, {}).setdefault(record.purpose, record)
    changed, fields = [], set()
    for lead in Lead.objects.filter(pk__in=ids).only("pk", *FLAG_FIELDS).order_by("pk"):
        wanted = flags_from_consents(lead, latest.get(lead.pk, {}))
        if wanted:
            for name, value in wanted.items():
                setattr(lead, name, value)
            changed.append(lead)
            fields |= set(wanted)
    if changed:
        Lead.objects.bulk_update(changed, sorted(fields))
    return len(created)


def consent_withdraw(*, lead_id: int, purposes: list[str], source: str, actor=None, evidence: str = "") -> list:
    """Withdraw consent for the purposes (all when empty)."""
    purposes = list(purposes) or list(ALL_PURPOSES)
    return consents_record(
        lead_id=lead_id, changes=[(p, False) for p in purposes], source=source, actor=actor, evidence=evidence
    )


def consent_overview(lead_id: int) -> dict:
    """For the lead and contact pages: each purpose with its latest record (or None), and the
    full history newest first (one query)."""
    history = list(
        ConsentRecord.objects.filter(lead_id=lead_id).select_related("actor").order_by("-recorded_at", "-id")
    )
    latest: dict[str, ConsentRecord] = {}
    for record in history:
        latest.setdefault(record.purpose, record)
    return {
        "purposes": [{"purpose": p.value, "label": p.label, "latest": latest.get(p.value)} for p in ConsentPurpose],
        "history": history,
    }


# --- Unsubscribe links -----------------------------------------------------------------------


def unsubscribe_token(*, lead_id: int, purposes: list[str] | None = None) -> str:
    """A signed token for ``/unsubscribe/<token>/`` that withdraws the purposes (all when
    None). It carries no personal data, only the lead id and the purposes, and cannot be forged
    without SECRET_KEY."""
    return signing.dumps({"l": lead_id, "p": list(purposes or ALL_PURPOSES)}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_read(token: str) -> tuple[int, list[str]]:
    """(lead id, purposes) of a token; ``signing.BadSignature`` for a forged or damaged one."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("l"), int) or not isinstance(data.get("p"), list):
        raise signing.BadSignature("Malformed unsubscribe token.")
    purposes = [p for p in data["p"] if p in ALL_PURPOSES]
    if not purposes:
        raise signing.BadSignature("Malformed unsubscribe token.")
    return data["l"], purposes


def unsubscribe_url(*, lead_id: int, purposes: list[str] | None = None) -> str:
    from django.urls import reverse

    return reverse("leads:unsubscribe", args=[unsubscribe_token(lead_id=lead_id, purposes=purposes)])
