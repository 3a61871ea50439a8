"""What the learned model sees of a lead, and which leads have an outcome to learn from.

A lead becomes a row ``{feature name: value}``:
- lead fields (``LEAD_FIELDS``): text fields (blank = missing), ``employees`` (numeric),
  ``email_opt_in``;
- custom attributes as ``attr.<key>``: JSON numbers make a numeric feature, strings (and
  booleans) a categorical one; anything else has no weight;
- engagement counts by kind as ``events.<kind>`` (campaign responses, webinars, ... are
  engagement events), counted up to the outcome when training so nothing after it leaks in.

Values are taken exactly as stored (no trimming), so the SQL application in ``apply.py``
matches the same rows the Python application does.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q

from leads.models import EngagementEvent, EngagementKind, Lead, LeadOutcome, LeadTransition, LifecycleStage

from .learner import CATEGORICAL, NUMERIC

# field -> kind; text fields and the opt-in flag are categorical, headcount numeric.
LEAD_FIELDS: dict[str, str] = {
    "industry": CATEGORICAL,
    "country": CATEGORICAL,
    "title": CATEGORICAL,
    "source": CATEGORICAL,
    "employees": NUMERIC,
    "email_opt_in": CATEGORICAL,
}
ATTR_PREFIX = "attr."
EVENTS_PREFIX = "events."
# Keys usable as attr.<key> in SQL on both databases (no JSON path syntax, no "__").
ATTR_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,62}$")
NUMERIC_SHARE = 0.95


def attr_usable(key: str) -> bool:
    return bool(ATTR_KEY_RE.match(key)) and "__" not in key


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def lead_row(lead: Lead, event_counts: dict[str, int] | None = None) -> dict:
    """The lead as the model sees it (see the module docstring)."""
    row: dict = {}
    for name in LEAD_FIELDS:
        row[name] = getattr(lead, name)
    attributes = lead.custom_attributes if isinstance(lead.custom_attributes, dict) else {}
    for key, value in attributes.items():
        if attr_usable(key):
            row[ATTR_PREFIX + key] = value
    for kind in EngagementKind.values:
        row[EVENTS_PREFIX + kind] = (event_counts or {}).get(kind, 0)
    return row


def event_counts_for(lead_ids, *, until: dict[int, datetime.datetime] | None = None) -> dict[int, dict[str, int]]:
    """Engagement events per lead and kind; with ``until`` only those up to each lead's time."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    lead_ids = list(lead_ids)
    for start in range(0, len(lead_ids), 5000):
        chunk = lead_ids[start : start + 5000]
        events = EngagementEvent.objects.filter(lead_id__in=chunk).values_list("lead_id", "kind", "occurred_at")
        for lead_id, kind, occurred_at in events.iterator(chunk_size=5000):
            if until is not None and occurred_at > until[lead_id]:
                continue
            counts[lead_id][kind] = counts[lead_id].get(kind, 0) + 1
    return counts


def feature_kinds(rows: list[dict], names) -> dict[str, str]:
    """Kind of each feature: fixed for lead fields and event counts; for attributes numeric
    when almost all present values are JSON numbers."""
    kinds = {}
    for name in names:
        if name in LEAD_FIELDS:
            kinds[name] = LEAD_FIELDS[name]
        elif name.startswith(EVENTS_PREFIX):
            kinds[name] = NUMERIC
        else:
            present = [row.get(name) for row in rows if row.get(name) is not None]
            numbers = sum(1 for value in present if is_number(value))
            kinds[name] = NUMERIC if present and numbers >= NUMERIC_SHARE * len(present) else CATEGORICAL
    return kinds


def negative_reason_q(reasons: list[str]) -> Q:
    """The recycles the policy counts as failures, read from the typed outcome fields. A policy
    code names an outcome ("lost:" = every lost outcome, "no_contact"), or an outcome and its
    reason ("lost:price"); a code that names no outcome matches nothing."""
    q = Q(pk__in=[])
    for code in reasons:
        outcome, _, outcome_reason = code.partition(":")
        if outcome not in LeadOutcome.values:
            continue
        q |= Q(outcome=outcome, outcome_reason=outcome_reason) if outcome_reason else Q(outcome=outcome)
    return q


@dataclass
class Outcome:
    lead_id: int
    positive: bool
    at: datetime.datetime


def outcomes_in_window(
    *, start: datetime.datetime, end: datetime.datetime, negative_reasons: list[str]
) -> list[Outcome]:
    """One outcome per lead, oldest first: became a customer (positive, when it did), else its
    latest recycle with a counted reason (negative). Leads still open have none."""
    transitions = (
        LeadTransition.objects.filter(at__gte=start, at__lte=end)
        .filter(
            Q(to_stage=LifecycleStage.CUSTOMER)
            | (Q(to_stage=LifecycleStage.RECYCLED) & negative_reason_q(negative_reasons))
        )
        .order_by("at", "id")
        .values_list("lead_id", "to_stage", "at")
    )
    by_lead: dict[int, Outcome] = {}
    for lead_id, to_stage, at in transitions.iterator(chunk_size=5000):
        positive = to_stage == LifecycleStage.CUSTOMER
        current = by_lead.get(lead_id)
        if current is None or positive or not current.positive:
            by_lead[lead_id] = Outcome(lead_id=lead_id, positive=positive, at=at)
    return sorted(by_lead.values(), key=lambda o: (o.at, o.lead_id))
