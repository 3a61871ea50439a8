"""Lead intake: engagement events from other systems, web capture forms, and the one cleaner of
lead values that they and the CSV import share."""

from __future__ import annotations

import re
import uuid
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from . import enqueue
from .consent import consent_changes_from_flags, consents_record
from .models import CaptureForm, ConsentPurpose, ConsentSource, EngagementKind, Lead, LeadSource
from .services import engagement_record
from .signals import lead_events_announce

TEXT_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "title",
    "company",
    "company_domain",
    "industry",
)
BOOL_FIELDS = ("email_opt_in", "do_not_call", "do_not_contact", "do_not_profile")
OPT_OUT_FIELDS = ("do_not_call", "do_not_contact", "do_not_profile")
LEAD_FIELDS = ("email", *TEXT_FIELDS, "employees", "country", "timezone", "source", *BOOL_FIELDS)
ATTR_PREFIX = "attr."
ATTR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# A cell starting like this runs as a formula when the data is opened in a spreadsheet later.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PHONE = re.compile(r"^\+?[0-9 ().\-/]{3,40}$")
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "y", "on"}, {"0", "false", "no", "n", "off", ""}
_SOURCES = frozenset(LeadSource.values)
# Enough to make a lead from an event or a form besides its email.
IDENTIFYING = ("first_name", "last_name", "company")


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=32)
def _max_length(name: str) -> int:
    return Lead._meta.get_field(name).max_length


def lead_values_clean(raw: dict, *, max_chars: int = 2000) -> tuple[dict, dict[str, str]]:
    """Clean incoming lead values (strings from a CSV or a form, or JSON values).

    Returns (values, errors): ``values`` holds model fields and ``custom_attributes``;
    ``errors`` maps the input name to the reason. Empty values are left out, so an update
    never blanks a field.
    """
    values: dict = {}
    attributes: dict = {}
    errors: dict[str, str] = {}
    for name, value in raw.items():
        if value is None:
            continue
        text = value.strip() if isinstance(value, str) else value
        if isinstance(text, str):
            if len(text) > max_chars:
                errors[name] = f"longer than {max_chars} characters"
                continue
            if "\x00" in text:
                errors[name] = "contains a NUL character"
                continue
            if (
                text.startswith(FORMULA_PREFIXES)
                and not NUMBER.match(text)
                and not (name == "phone" and PHONE.match(text))
            ):
                errors[name] = f"starts with '{text[0]}', which a spreadsheet would run as a formula"
                continue
        if text == "":
            continue
        if name.startswith(ATTR_PREFIX):
            key = name[len(ATTR_PREFIX) :]
            if not ATTR_NAME.match(key):
                errors[name] = "attribute names use letters, digits and _"
            else:
                attributes[key] = _attribute_value(text)
            continue
        if name not in LEAD_FIELDS:
            errors[name] = "not a lead field"
            continue
        try:
            values[name] = _clean_field(name, text)
        except ValueError as exc:
            errors[name] = str(exc)
    if attributes:
        values["custom_attributes"] = attributes
    return values, errors


def _attribute_value(text):
    if not isinstance(text, str):
        return text
    if re.fullmatch(r"[+-]?\d{1,15}", text):
        return int(text)
    if NUMBER.match(text):
        return float(text)
    return text


def _clean_field(name: str, value):
    if name == "email":
        if not isinstance(value, str):
            raise ValueError("not an email address")
        try:
            validate_email(value)
        except ValidationError:
            raise ValueError(f"'{value[:80]}' is not a valid email address") from None
        if len(value) > 254:
            raise ValueError("longer than 254 characters")
        return value.lower()
    if name in BOOL_FIELDS:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(f"'{str(value)[:20]}' is not yes/no")
    if name == "employees":
        try:
            number = int(str(value).replace(",", "").replace("_", ""))
        except ValueError:
            raise ValueError(f"'{str(value)[:20]}' is not a whole number") from None
        if not 0 <= number <= 10_000_000:
            raise ValueError("must be between 0 and 10000000")
        return number
    value = str(value)
    if name == "country":
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError(f"'{value[:20]}' is not a two-letter country code")
        return value.upper()
    if name == "timezone":
        if value not in _timezones():
            raise ValueError(f"'{value[:40]}' is not an IANA time zone")
        return value
    if name == "source":
        lowered = value.lower()
        if lowered not in _SOURCES:
            raise ValueError(f"'{value[:20]}' is not one of: {', '.join(LeadSource.values)}")
        return lowered
    if len(value) > _max_length(name):
        raise ValueError(f"longer than {_max_length(name)} characters")
    return value.lower() if name == "company_domain" else value


def _consents_from(lead_id: int, values: dict, *, source: str, evidence: str, actor=None) -> bool:
    """The consent columns of a form, event or API write become consent records (only a yes
    counts: consent and opt-outs only tighten here), from which the lead's flags derive."""
    changes = consent_changes_from_flags(values, tighten_only=True)
    consents_record(lead_id=lead_id, changes=changes, source=source, evidence=evidence, actor=actor)
    return bool(changes)


def _without_consent(values: dict) -> dict:
    return {name: value for name, value in values.items() if name not in BOOL_FIELDS}


def _lead_upsert(
    values: dict, *, source: str, consent_source: str = ConsentSource.API, evidence: str = "", actor=None
) -> tuple[Lead, bool]:
    """Create the lead, or fill in what the existing one (same email, any case) lacks; its
    consent columns are recorded as consent (``consent_source``, ``evidence``)."""
    email = values["email"]
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(email__iexact=email).first()
        created = False
        if lead is None:
            try:
                with transaction.atomic():
                    lead = Lead.objects.create(**{"source": source, **_without_consent(values)})
                    lead_created_announce([lead])
                    created = True
            except IntegrityError:  # created concurrently: fall through to update it
                lead = Lead.objects.select_for_update().get(email__iexact=email)
        if not created:
            _lead_fill(lead, _without_consent(values))
        if _consents_from(lead.pk, values, source=consent_source, evidence=evidence, actor=actor):
            lead.refresh_from_db()
    return lead, created


def lead_created_announce(leads) -> None:
    """Tell other systems (webhooks) about new leads, inside the creating transaction."""
    lead_events_announce(
        "lead.created",
        [{"lead": lead.pk, "email": lead.email, "source": lead.source, "stage": lead.stage} for lead in leads],
    )


def _lead_fill(lead: Lead, values: dict) -> list[str]:
    """Write ``values`` on the locked ``lead``: custom attributes merge, consent and opt-outs
    only tighten (never clear do-not-contact), everything else is replaced. Saves what
    changed; returns the changed names."""
    changed = []
    for name, value in values.items():
        if name == "email" and value == lead.email.lower():
            continue
        if name == "custom_attributes":
            merged = {**lead.custom_attributes, **value}
            if merged != lead.custom_attributes:
                lead.custom_attributes = merged
                changed.append(name)
        elif name in BOOL_FIELDS:
            # Consent and opt-outs only tighten from a form: never clear do-not-contact.
            if value and not getattr(lead, name):
                setattr(lead, name, True)
                changed.append(name)
        elif getattr(lead, name) != value:
            setattr(lead, name, value)
            changed.append(name)
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])
    return changed


# --- Writes through the API (the same cleaning, dedupe, consent and scoring) -------------------

# What a rep may change on a lead they own: how to reach the person, nothing marketing decides.
REP_CONTACT_FIELDS = ("first_name", "last_name", "phone", "title")
# A lead another system creates through the API says so, unless the caller names its source.
API_DEFAULT_SOURCE = LeadSource.API


def api_lead_input(data) -> dict:
    """The API's JSON lead (``custom_attributes`` as an object) as the flat names the cleaner
    reads (``attr.<name>``); a wrong shape is a field error."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": "Send the lead as a JSON object."})
    raw = {k: v for k, v in data.items() if k != "custom_attributes"}
    attributes = data.get("custom_attributes")
    if attributes is not None:
        if not isinstance(attributes, dict):
            raise ValidationError({"custom_attributes": "Send the attributes as an object."})
        for key, value in attributes.items():
            if isinstance(value, (dict, list)):
                raise ValidationError({f"custom_attributes.{key}": "An attribute is a string, number or boolean."})
            raw[f"{ATTR_PREFIX}{key}"] = value
    for name, value in raw.items():
        if isinstance(value, (dict, list)):
            raise ValidationError({name: "Expected a single value, not an object or a list."})
    return raw


def _clean_or_raise(raw: dict, *, require_email: bool) -> dict:
    values, errors = lead_values_clean(raw)
    if errors:
        raise ValidationError({api_field_name(k): reason for k, reason in errors.items()})
    if require_email and "email" not in values:
        raise ValidationError({"email": "An email address is required."})
    return values


def api_field_name(name: str) -> str:
    return f"custom_attributes.{name[len(ATTR_PREFIX) :]}" if name.startswith(ATTR_PREFIX) else name


def lead_create(*, data: dict, actor=None) -> Lead:
    """Create a lead from API input, cleaned as capture and import clean it; an email that
    exists (any case) is refused naming the lead (upsert by email updates it instead). The
    lead is scored (and qualified) by a worker after commit."""
    values = _clean_or_raise(api_lead_input(data), require_email=True)
    with transaction.atomic():
        existing = Lead.objects.filter(email__iexact=values["email"]).values_list("pk", flat=True).first()
        if existing is None:
            try:
                with transaction.atomic():
                    lead = Lead.objects.create(**{"source": API_DEFAULT_SOURCE, **_without_consent(values)})
                    lead_created_announce([lead])
                    if _consents_from(
                        lead.pk, values, source=ConsentSource.API, evidence="POST /api/leads/", actor=actor
                    ):
                        lead.refresh_from_db()
            except IntegrityError:
                existing = Lead.objects.filter(email__iexact=values["email"]).values_list("pk", flat=True).first()
        if existing is not None:
            raise ValidationError(
                {
                    "email": f"A lead with this email already exists (id {existing}); PUT /api/leads/by-email/ updates it."
                }
            )
        enqueue.score_lead(lead.pk)
    return lead


def lead_upsert_by_email(*, email: str, data: dict, actor=None) -> tuple[Lead, bool]:
    """Create the lead with this email or update the one that has it (any case), exactly as a
    capture form does: empty values leave a field alone, consent only tightens. Returns
    (lead, created); the lead is scored after commit."""
    raw = api_lead_input(data)
    given = str(raw.get("email", email)).strip().lower()
    if given != email.strip().lower():
        raise ValidationError({"email": "The email in the body differs from the one in the address."})
    raw["email"] = email
    values = _clean_or_raise(raw, require_email=True)
    with transaction.atomic():
        lead, created = _lead_upsert(
            values, source=API_DEFAULT_SOURCE, evidence="PUT /api/leads/by-email/", actor=actor
        )
        enqueue.score_lead(lead.pk)
    return lead, created


def lead_update(*, lead_id: int, data: dict, allowed_fields: tuple[str, ...] | None = None, actor=None) -> Lead:
    """Change some of a lead's fields (a PATCH). ``allowed_fields`` limits what this caller
    may change (a rep: REP_CONTACT_FIELDS). Consent only tightens: ``email_opt_in`` false is
    the person's opt-out, recorded as a withdrawal (source API); clearing a do-not flag is
    refused naming it. A new email must be free. Scored after commit."""
    raw = api_lead_input(data)
    if allowed_fields is not None:
        refused = {
            api_field_name(name): f"You can change only: {', '.join(allowed_fields)}."
            for name in raw
            if name not in allowed_fields
        }
        if refused:
            raise ValidationError(refused)
    for name in BOOL_FIELDS:
        if name in raw and raw[name] in (None, ""):
            raise ValidationError({name: "Send true or false."})
    values = _clean_or_raise(raw, require_email=False)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        loosened = [n for n in OPT_OUT_FIELDS if n in values and not values[n] and getattr(lead, n)]
        if loosened:
            raise ValidationError(
                dict.fromkeys(loosened, "Opt-outs only tighten through the API; this one cannot be switched off.")
            )
        if "email" in values and Lead.objects.filter(email__iexact=values["email"]).exclude(pk=lead_id).exists():
            raise ValidationError({"email": "Another lead has this email."})
        changes = consent_changes_from_flags(values, tighten_only=True)
        if values.get("email_opt_in") is False and lead.email_opt_in:  # the person opted out
            changes.append((ConsentPurpose.EMAIL_MARKETING, False))
        consents_record(
            lead_id=lead.pk,
            changes=changes,
            source=ConsentSource.API,
            evidence=f"PATCH /api/leads/{lead.pk}/",
            actor=actor,
        )
        consented = bool(changes)
        if _lead_fill(lead, _without_consent(values)) or consented:
            enqueue.score_lead(lead.pk)
    return lead


# --- Engagement events -----------------------------------------------------------------------


def events_record(*, events: list[dict], max_batch: int) -> list[dict]:
    """Record one or many engagement events, all or nothing.

    Every event is checked first (lead by id or email, kind, lead fields for a new lead); any
    problem refuses the whole batch with errors keyed ``events.<index>.<field>`` and nothing is
    stored. A repeat of (lead, kind, source_reference) is reported as not created.
    """
    if not events:
        raise ValidationError({"events": "Send at least one event."})
    if len(events) > max_batch:
        raise ValidationError({"events": f"At most {max_batch} events per request; got {len(events)}."})
    ids = {e["lead"] for e in events if e.get("lead")}
    emails = {e["email"].lower() for e in events if e.get("email") and not e.get("lead")}
    known_ids = set(Lead.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    by_email = (
        dict(Lead.objects.annotate(e=Lower("email")).filter(e__in=emails).values_list("e", "pk")) if emails else {}
    )
    errors: dict[str, str] = {}
    plan = []
    for index, event in enumerate(events):
        prefix = f"events.{index}"
        if event.get("lead"):
            if event["lead"] not in known_ids:
                errors[f"{prefix}.lead"] = f"No lead with id {event['lead']}."
                continue
            plan.append((event, event["lead"], None))
            continue
        email = event["email"].lower()
        if email in by_email:
            plan.append((event, by_email[email], None))
            continue
        fields, field_errors = lead_values_clean({**(event.get("lead_fields") or {}), "email": email})
        for name, reason in field_errors.items():
            errors[f"{prefix}.lead_fields.{name}"] = reason
        if not field_errors and not any(fields.get(n) for n in IDENTIFYING):
            errors[f"{prefix}.email"] = (
                f"No lead with email {email}; to create one, send lead_fields with a first_name, last_name or company."
            )
        plan.append((event, None, fields))
    if errors:
        raise ValidationError(errors)
    results = []
    with transaction.atomic():
        for event, lead_id, fields in plan:
            lead_created = False
            if lead_id is None:
                lead, lead_created = _lead_upsert(
                    fields, source=LeadSource.EVENT, consent_source=ConsentSource.API, evidence="POST /api/events/"
                )
                lead_id = lead.pk
            recorded, created = engagement_record(
                lead_id=lead_id,
                kind=event["kind"],
                occurred_at=event.get("occurred_at"),
                source_reference=event.get("source_reference", ""),
            )
            results.append({"id": recorded.pk, "lead": lead_id, "created": created, "lead_created": lead_created})
    return results


# --- Web capture forms -------------------------------------------------------------------------

CAPTURE_FIELDS = (*LEAD_FIELDS,)
HONEYPOT = "website"


def capture_submit(*, form: CaptureForm, data: dict) -> tuple[Lead | None, bool]:
    """A capture form was submitted: create or update the lead (dedupe by email, any case) and
    record a form-submit event. Returns (lead, created); a filled honeypot returns (None,
    False) and stores nothing, so bots see the same success as people."""
    if not form.is_active:
        raise ValidationError({"form": "This form no longer accepts submissions."})
    if str(data.get(HONEYPOT, "")).strip():
        return None, False
    raw = {k: v for k, v in data.items() if k in CAPTURE_FIELDS or k.startswith(ATTR_PREFIX)}
    if not str(raw.get("email", "")).strip():
        raise ValidationError({"email": "An email address is required."})
    values, errors = lead_values_clean(raw)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        lead, created = _lead_upsert(
            values,
            source=LeadSource.WEB_FORM,
            consent_source=ConsentSource.FORM,
            evidence=form.consent_text or f"Form '{form.name}' ({form.key})",
        )
        engagement_record(
            lead_id=lead.pk,
            kind=EngagementKind.FORM_SUBMIT,
            occurred_at=timezone.now(),
            source_reference=f"form:{form.key}:{uuid.uuid4().hex[:16]}",
        )
        enqueue.duplicates_find([lead.pk])
    return lead, created
