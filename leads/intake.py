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

from .consent import consent_changes_from_flags, consents_record
from .models import CaptureForm, ConsentSource, EngagementKind, Lead, LeadSource
from .services import engagement_record

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
LEAD_FIELDS = ("email", *TEXT_FIELDS, "employees", "country", "timezone", "source", *BOOL_FIELDS)
ATTR_PREFIX = "attr."
ATTR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# A cell starting like this runs as a formula when the data is opened in a spreadsheet later.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PHONE = re.compile(r"^\+?[0-9 ().\-/]{3,40}$")
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "y", "on"}, {"0", "false", "no", "n", "off", ""}
# Enough to make a lead from an event or a form besides its email.
IDENTIFYING = ("first_name", "last_name", "company")


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


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
        if lowered not in LeadSource.values:
            raise ValueError(f"'{value[:20]}' is not one of: {', '.join(LeadSource.values)}")
        return lowered
    if len(value) > _max_length(name):
        raise ValueError(f"longer than {_max_length(name)} characters")
    return value.lower() if name == "company_domain" else value


def _lead_upsert(values: dict, *, source: str, consent_source: str, evidence: str) -> tuple[Lead, bool]:
    """Create the lead, or fill in what the existing one (same email, any case) lacks. The
    consent columns become consent records (only a yes counts: a form never clears an
    opt-out), from which the lead's flags are derived."""
    with transaction.atomic():
        lead, created = _lead_fill(values, source=source)
        consents_record(
            lead_id=lead.pk,
            changes=consent_changes_from_flags(values, tighten_only=True),
            source=consent_source,
            evidence=evidence,
        )
    if created or any(name in values for name in BOOL_FIELDS):
        lead.refresh_from_db()
    return lead, created


def _lead_fill(values: dict, *, source: str) -> tuple[Lead, bool]:
    email = values["email"]
    values = {name: value for name, value in values.items() if name not in BOOL_FIELDS}
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(email__iexact=email).first()
        if lead is None:
            try:
                with transaction.atomic():
                    return Lead.objects.create(**{"source": source, **values}), True
            except IntegrityError:  # created concurrently: fall through to update it
                lead = Lead.objects.select_for_update().get(email__iexact=email)
        changed = []
        for name, value in values.items():
            if name == "email":
                continue
            if name == "custom_attributes":
                merged = {**lead.custom_attributes, **value}
                if merged != lead.custom_attributes:
                    lead.custom_attributes = merged
                    changed.append(name)
            elif getattr(lead, name) != value:
                setattr(lead, name, value)
                changed.append(name)
        if changed:
            lead.save(update_fields=[*changed, "updated_at"])
    return lead, False


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
    return lead, created
