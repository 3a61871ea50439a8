"""Duplicate leads: pairs that look like one person, found set-based.

Two rules, each one ``INSERT ... SELECT`` joining the lead table with itself:

- ``phone``: the same normalised phone (``Lead.phone_digits``, the digits only; at least
  ``MIN_PHONE_DIGITS`` so that extensions and placeholders do not match everyone);
- ``name_domain``: the same first and last name (any case) at the same company domain.

The same e-mail in any case is never two leads (a unique index; capture and import update the
lead that has it). ``duplicates_find(lead_ids=...)`` looks only at pairs involving those leads
(capture, import batches); without ids it checks every lead (the nightly job). A pair found
again is left as it is (``ON CONFLICT DO NOTHING``), so a dismissed pair stays dismissed.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from .models import DuplicatePair, DuplicateReason

MIN_PHONE_DIGITS = 6
MAX_IDS = 5000

_MATCH = {
    DuplicateReason.PHONE: (
        "a.phone_digits = b.phone_digits AND length(a.phone_digits) >= %s",
        [MIN_PHONE_DIGITS],
    ),
    DuplicateReason.NAME_DOMAIN: (
        "lower(a.first_name) = lower(b.first_name) AND lower(a.last_name) = lower(b.last_name) "
        "AND a.company_domain = b.company_domain AND a.company_domain <> '' AND a.first_name <> '' "
        "AND a.last_name <> ''",
        [],
    ),
}


def duplicates_find(*, lead_ids=None) -> int:
    """Record the duplicate pairs among all leads, or those involving ``lead_ids``; returns how
    many new pairs were recorded."""
    ids = None if lead_ids is None else sorted({int(i) for i in lead_ids})[:MAX_IDS]
    if ids == []:
        return 0
    table = DuplicatePair._meta.db_table
    now = timezone.now()
    added = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for reason, (match, match_params) in _MATCH.items():
            where, where_params = "", []
            if ids is not None:
                marks = ", ".join(["%s"] * len(ids))
                where = f" AND (a.id IN ({marks}) OR b.id IN ({marks}))"
                where_params = [*ids, *ids]
            cursor.execute(
                f"INSERT INTO {table} (lead_a_id, lead_b_id, reason, found_at, dismissed) "
                f"SELECT a.id, b.id, %s, %s, %s FROM leads_lead a JOIN leads_lead b ON a.id < b.id AND {match}"
                f"{where} ON CONFLICT (lead_a_id, lead_b_id, reason) DO NOTHING",
                [reason.value, now, False, *match_params, *where_params],
            )
            added += max(cursor.rowcount, 0)
    return added


def duplicate_pairs_open():
    """The pairs not dismissed, newest first, with both leads (one query)."""
    return DuplicatePair.objects.filter(dismissed=False).select_related("lead_a", "lead_b").order_by("-found_at", "-id")


def duplicate_dismiss(*, pair_id: int, actor) -> int:
    """Mark a pair as two different people; returns 1, or 0 when there is no such open pair."""
    return DuplicatePair.objects.filter(pk=pair_id, dismissed=False).update(dismissed=True)
