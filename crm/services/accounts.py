"""Writes of accounts and contacts, with the row rules of the sales side.

A rep creates accounts they own and changes only those; a manager creates and changes any and
may give an account to another owner. A contact is added to, or changed on, an account the
actor can see; its lead (optional) must be one the actor can see and not another contact's.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from config.roles import is_manager

from ..models import Account, Contact
from ..selectors import account_visible_q, contact_visible_q
from .access import _visible_row, ensure_sales_actor, lead_for_actor

ACCOUNT_FIELDS = ("name", "domain", "industry", "employees", "country", "is_customer", "next_check_in_on", "owner_id")
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "title", "lead_id")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](-*[a-z0-9])*)(\.[a-z0-9](-*[a-z0-9])*)+$")


def _clean_account(values: dict, *, actor) -> dict:
    clean = dict(values)
    if "name" in clean:
        clean["name"] = (clean["name"] or "").strip()
        if not clean["name"]:
            raise ValidationError({"name": "An account needs a name."})
    if clean.get("domain"):
        domain = clean["domain"].strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
        if not DOMAIN.match(domain):
            raise ValidationError({"domain": f"'{domain[:60]}' is not a web domain such as example.com."})
        clean["domain"] = domain
    if clean.get("country"):
        if not re.fullmatch(r"[A-Za-z]{2}", clean["country"]):
            raise ValidationError({"country": "Use a two-letter country code such as DE."})
        clean["country"] = clean["country"].upper()
    if "owner_id" in clean:
        if not is_manager(actor):
            raise ValidationError({"owner": "Only a sales manager gives an account to another owner."})
        if clean["owner_id"] is not None and not get_user_model().objects.filter(pk=clean["owner_id"]).exists():
            raise ValidationError({"owner": "User not found."})
    return clean


def _save(row, *, field: str):
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise ValidationError({field: "Another account has this domain."}) from None
    return row


def account_create(*, actor, **values) -> Account:
    ensure_sales_actor(actor, action="create accounts")
    unknown = set(values) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Not an account field."))
    clean = _clean_account(values, actor=actor)
    if "name" not in clean:
        raise ValidationError({"name": "An account needs a name."})
    clean.setdefault("owner_id", actor.pk)
    return _save(Account(**clean), field="domain")


def account_update(*, actor, account_id: int, **values) -> Account:
    """Change an account: a rep only one they own (one they see through a deal is read-only to
    them), a manager any."""
    ensure_sales_actor(actor, action="change accounts")
    clean = _clean_account(values, actor=actor)
    with transaction.atomic():
        account = _visible_row(
            Account.objects.filter(account_visible_q(actor)), pk=account_id, field="account", label="Account", lock=True
        )
        if not is_manager(actor) and account.owner_id != actor.pk:
            raise PermissionDenied("Only the account's owner or a sales manager can change it.")
        for name, value in clean.items():
            setattr(account, name, value)
        return _save(account, field="domain")


def _clean_contact(values: dict, *, actor, contact_id: int | None = None) -> dict:
    from django.core.validators import validate_email

    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    if clean.get("email"):
        try:
            validate_email(clean["email"])
        except ValidationError:
            raise ValidationError({"email": "Enter a valid email address."}) from None
    if clean.get("lead_id") is not None:
        lead = lead_for_actor(actor=actor, lead_id=clean["lead_id"], field="lead")
        taken = Contact.objects.filter(lead_id=lead.pk).exclude(pk=contact_id).values_list("pk", flat=True).first()
        if taken:
            raise ValidationError({"lead": "This lead is already another contact."})
    return clean


def contact_create(*, actor, account_id: int, **values) -> Contact:
    ensure_sales_actor(actor, action="add contacts")
    account = _visible_row(
        Account.objects.filter(account_visible_q(actor)), pk=account_id, field="account", label="Account"
    )
    clean = _clean_contact(values, actor=actor)
    if not any(clean.get(n) for n in ("first_name", "last_name", "email")):
        raise ValidationError({"first_name": "A contact needs a name or an email."})
    with transaction.atomic():
        return Contact.objects.create(account=account, **clean)


def contact_update(*, actor, contact_id: int, **values) -> Contact:
    ensure_sales_actor(actor, action="change contacts")
    if "account_id" in values:
        account_id = values.pop("account_id")
        _visible_row(Account.objects.filter(account_visible_q(actor)), pk=account_id, field="account", label="Account")
        values["account_id"] = account_id
    clean = _clean_contact(values, actor=actor, contact_id=contact_id)
    with transaction.atomic():
        contact = _visible_row(
            Contact.objects.filter(contact_visible_q(actor)), pk=contact_id, field="contact", label="Contact", lock=True
        )
        for name, value in clean.items():
            setattr(contact, name, value)
        contact.save()
    return contact
