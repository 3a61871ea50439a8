"""Versions of the scoring rule set: save, restore, and the background re-score.

A rule set is the active scoring rules plus the policy (threshold, fit minimum, default
half-life, rejection penalty, learned mode and weight). It is given and stored as plain data:

- ``rules``: a list of dicts, one per active rule, with the keys of ``RULE_KEYS`` (``id`` names
  an existing rule to change; without it a rule is created). A rule left out is deactivated,
  never deleted, so an older version can bring it back.
- ``policy``: a dict with the keys of ``POLICY_KEYS``.

``rule_set_save`` validates both (a ``ValidationError`` whose keys name the field:
``threshold``, ``rules.2.points``), writes rules and policy with bulk updates (no per-row
signal), records a ``RuleSetVersion`` (who, when, what changed, the note) and enqueues the
re-score of every lead in the background; ``rule_set_restore`` does the same with an earlier
version's data. ``rule_set_rescore`` (the task's service) re-scores id range by id range and
writes its progress on the version; a newer saved version supersedes it.
"""

from __future__ import annotations

import datetime
import math

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from . import enqueue
from .locks import rescore_lock
from .models import (
    EngagementKind,
    Lead,
    LearnedScoreMode,
    RescoreStatus,
    RuleKind,
    RuleSetVersion,
    ScoringPolicy,
    ScoringRule,
    Segment,
)
from .scoring import RuleSet, _rescore, scoring_rule_validate

RULE_KEYS = (
    "id",
    "name",
    "kind",
    "field",
    "operator",
    "value",
    "segment_id",
    "points",
    "event_kind",
    "points_per_event",
    "cap",
    "half_life_days",
)
POLICY_KEYS = (
    "threshold",
    "fit_minimum",
    "default_half_life_days",
    "rejection_penalty",
    "learned_mode",
    "learned_weight",
)
POLICY_LABELS = {
    "threshold": "Threshold",
    "fit_minimum": "Fit minimum",
    "default_half_life_days": "Default half-life (days)",
    "rejection_penalty": "Rejection penalty",
    "learned_mode": "Learned score",
    "learned_weight": "Learned weight",
}
RULE_LABELS = {
    "name": "name",
    "field": "field",
    "operator": "operator",
    "value": "value",
    "segment_id": "segment",
    "points": "points",
    "event_kind": "event kind",
    "points_per_event": "points per event",
    "cap": "cap",
    "half_life_days": "half-life",
}
INT_LIMIT = 2**31 - 1
FLOAT_LIMIT = 1e9
MAX_RULES = 200
RESCORE_CHUNK = 50_000


# --- data <-> rows ------------------------------------------------------------------------------


def rule_as_data(rule: ScoringRule) -> dict:
    return {
        "id": rule.pk,
        "name": rule.name,
        "kind": rule.kind,
        "field": rule.field,
        "operator": rule.operator,
        "value": rule.value,
        "segment_id": rule.segment_id,
        "points": rule.points,
        "event_kind": rule.event_kind,
        "points_per_event": rule.points_per_event,
        "cap": rule.cap,
        "half_life_days": rule.half_life_days,
    }


def policy_as_data(policy: ScoringPolicy) -> dict:
    return {key: getattr(policy, key) for key in POLICY_KEYS}


def rule_set_snapshot() -> dict:
    """The rule set in force as data: ``{"rules": [...], "policy": {...}}`` (two queries)."""
    rules = ScoringRule.objects.filter(is_active=True).order_by("kind", "position", "id")
    return {"rules": [rule_as_data(r) for r in rules], "policy": policy_as_data(ScoringPolicy.current())}


# --- validation ---------------------------------------------------------------------------------


def _number(value, *, key: str, errors: dict, integer: bool, minimum=None, above=None, optional=False):
    if value is None or value == "":
        if optional:
            return None
        errors[key] = "This field is required."
        return None
    if isinstance(value, bool):
        errors[key] = "Enter a number."
        return None
    try:
        number = float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        errors[key] = "Enter a number."
        return None
    if isinstance(number, float) and not math.isfinite(number):
        errors[key] = "Enter a finite number."
        return None
    if integer:
        if isinstance(number, float) and not number.is_integer():
            errors[key] = "Enter a whole number."
            return None
        number = int(number)
        if abs(number) > INT_LIMIT:
            errors[key] = f"Enter a number between {-INT_LIMIT} and {INT_LIMIT}."
            return None
    else:
        number = float(number)
        if abs(number) > FLOAT_LIMIT:
            errors[key] = f"Enter a number between {-FLOAT_LIMIT:g} and {FLOAT_LIMIT:g}."
            return None
    if minimum is not None and number < minimum:
        errors[key] = f"Ensure this value is greater than or equal to {minimum:g}."
        return None
    if above is not None and number <= above:
        errors[key] = f"Ensure this value is greater than {above:g}."
        return None
    return number


def _text(value, *, key: str, errors: dict, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[key] = "Enter text."
        return ""
    value = value.strip()
    if "\x00" in value:
        errors[key] = "Null characters are not allowed."
        return ""
    if required and not value:
        errors[key] = "This field is required."
    elif len(value) > max_length:
        errors[key] = f"Ensure this value has at most {max_length} characters (it has {len(value)})."
    return value


def policy_validate(data) -> ScoringPolicy:
    """An unsaved ``ScoringPolicy`` from the data, or a ValidationError naming each bad field."""
    if not isinstance(data, dict):
        raise ValidationError({"policy": "Expected an object."})
    errors: dict = {}
    policy = ScoringPolicy(pk=1)
    policy.threshold = _number(data.get("threshold"), key="threshold", errors=errors, integer=False, minimum=0)
    policy.fit_minimum = _number(data.get("fit_minimum"), key="fit_minimum", errors=errors, integer=True)
    policy.default_half_life_days = _number(
        data.get("default_half_life_days"), key="default_half_life_days", errors=errors, integer=False, above=0
    )
    penalty = _number(
        data.get("rejection_penalty", 0), key="rejection_penalty", errors=errors, integer=False, minimum=0
    )
    policy.rejection_penalty = penalty or 0.0
    mode = data.get("learned_mode", LearnedScoreMode.OFF) or LearnedScoreMode.OFF
    if mode not in LearnedScoreMode.values:
        errors["learned_mode"] = f"Choose one of: {', '.join(LearnedScoreMode.values)}."
    policy.learned_mode = mode
    weight = _number(data.get("learned_weight", 0), key="learned_weight", errors=errors, integer=False, minimum=0)
    policy.learned_weight = weight or 0.0
    if errors:
        raise ValidationError(errors)
    return policy


def rules_validate(data) -> list[ScoringRule]:
    """Unsaved ``ScoringRule`` objects (``pk`` kept for existing rules) from the data, in the
    given order, or a ValidationError whose keys are ``rules.<index>.<field>``."""
    if not isinstance(data, list):
        raise ValidationError({"rules": "Expected a list of rules."})
    if len(data) > MAX_RULES:
        raise ValidationError({"rules": f"At most {MAX_RULES} rules."})
    errors: dict = {}
    rules: list[ScoringRule] = []
    segment_ids = {r.get("segment_id") for r in data if isinstance(r, dict) and r.get("segment_id") not in (None, "")}
    segments = {}
    clean_ids = {s for s in segment_ids if isinstance(s, int) and not isinstance(s, bool) and 0 < s <= INT_LIMIT}
    if clean_ids:
        segments = Segment.objects.in_bulk(clean_ids)
    known_ids = set()
    rule_ids = {r.get("id") for r in data if isinstance(r, dict) and isinstance(r.get("id"), int)}
    rule_ids = {i for i in rule_ids if 0 < i <= INT_LIMIT}
    if rule_ids:
        known_ids = set(ScoringRule.objects.filter(pk__in=rule_ids).values_list("pk", flat=True))
    seen_ids: set = set()
    for i, item in enumerate(data):
        p = f"rules.{i}."
        if not isinstance(item, dict):
            errors[f"rules.{i}"] = "Expected an object."
            continue
        rule = ScoringRule(position=i, is_active=True)
        rid = item.get("id")
        if rid not in (None, ""):
            if isinstance(rid, bool) or not isinstance(rid, int) or rid not in known_ids:
                # A rule deleted since the version was saved comes back as a new rule.
                rid = None
            elif rid in seen_ids:
                errors[p + "id"] = "The same rule appears twice."
            else:
                seen_ids.add(rid)
            rule.pk = rid
        rule.name = _text(item.get("name"), key=p + "name", errors=errors, max_length=150, required=True)
        kind = item.get("kind")
        if kind not in RuleKind.values:
            errors[p + "kind"] = f"Choose one of: {', '.join(RuleKind.values)}."
            rules.append(rule)
            continue
        rule.kind = kind
        if kind == RuleKind.FIT:
            rule.points = _number(item.get("points"), key=p + "points", errors=errors, integer=True)
            seg = item.get("segment_id")
            if seg not in (None, ""):
                if isinstance(seg, int) and not isinstance(seg, bool) and seg in segments:
                    rule.segment = segments[seg]
                else:
                    errors[p + "segment_id"] = "Choose an existing segment."
            else:
                rule.field = _text(item.get("field"), key=p + "field", errors=errors, max_length=100)
                rule.operator = _text(item.get("operator"), key=p + "operator", errors=errors, max_length=20)
                rule.value = item.get("value")
            if not any(k.startswith(p) for k in errors):
                try:
                    scoring_rule_validate(rule)
                except ValidationError as exc:
                    for key, messages in exc.message_dict.items():
                        errors[p + key] = " ".join(messages)
            rule.event_kind, rule.points_per_event, rule.cap, rule.half_life_days = "", 0.0, None, None
        else:
            rule.event_kind = item.get("event_kind") or ""
            if rule.event_kind not in EngagementKind.values:
                errors[p + "event_kind"] = "Choose an engagement kind."
            rule.points_per_event = _number(
                item.get("points_per_event"), key=p + "points_per_event", errors=errors, integer=False
            )
            rule.cap = _number(item.get("cap"), key=p + "cap", errors=errors, integer=False, minimum=0, optional=True)
            rule.half_life_days = _number(
                item.get("half_life_days"),
                key=p + "half_life_days",
                errors=errors,
                integer=False,
                above=0,
                optional=True,
            )
            rule.points, rule.field, rule.operator, rule.value = 0, "", "", None
        rules.append(rule)
    if errors:
        raise ValidationError(errors)
    return rules


def rule_set_validate(*, rules, policy) -> RuleSet:
    """Both halves validated together so every bad field is named at once (no writes)."""
    errors: dict = {}
    parsed_rules, parsed_policy = [], None
    try:
        parsed_rules = rules_validate(rules)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        parsed_policy = policy_validate(policy)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return RuleSet(
        policy=parsed_policy,
        fit=tuple(r for r in parsed_rules if r.kind == RuleKind.FIT),
        engagement=tuple(r for r in parsed_rules if r.kind == RuleKind.ENGAGEMENT),
    )


# --- what changed -------------------------------------------------------------------------------


def _show(value) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def rule_set_changes(before: dict, after: dict) -> list[str]:
    """Readable lines saying what changed from ``before`` to ``after`` (snapshots)."""
    lines = []
    for key in POLICY_KEYS:
        old, new = before["policy"].get(key), after["policy"].get(key)
        if old != new:
            lines.append(f"{POLICY_LABELS[key]}: {_show(old)} -> {_show(new)}")
    old_rules = {r["id"]: r for r in before["rules"] if r.get("id")}
    new_ids = set()
    for rule in after["rules"]:
        old = old_rules.get(rule.get("id"))
        if old is None:
            lines.append(f"Added {rule['kind']} rule '{rule['name']}'")
            continue
        new_ids.add(rule["id"])
        diffs = [
            f"{label} {_show(old.get(key))} -> {_show(rule.get(key))}"
            for key, label in RULE_LABELS.items()
            if old.get(key) != rule.get(key)
        ]
        if diffs:
            lines.append(f"Rule '{old['name']}': " + ", ".join(diffs))
    for rid, old in old_rules.items():
        if rid not in new_ids:
            lines.append(f"Removed {old['kind']} rule '{old['name']}'")
    return lines


# --- writes -------------------------------------------------------------------------------------


def _apply(rule_set: RuleSet, actor) -> None:
    """Make the rows match the rule set with bulk writes (no post_save: the version's own
    background re-score is the one re-score of this change)."""
    now = timezone.now()
    keep: list[int] = []
    new_rules = []
    fields = ["name", "kind", "field", "operator", "value", "segment", "points", "event_kind"]
    fields += ["points_per_event", "cap", "half_life_days", "position", "is_active", "updated_at"]
    existing = []
    for rule in (*rule_set.fit, *rule_set.engagement):
        rule.updated_at = now
        if rule.pk:
            keep.append(rule.pk)
            existing.append(rule)
        else:
            rule.created_at = now
            new_rules.append(rule)
    ScoringRule.objects.filter(is_active=True).exclude(pk__in=keep).update(is_active=False, updated_at=now)
    if existing:
        ScoringRule.objects.bulk_update(existing, fields)
    if new_rules:
        ScoringRule.objects.bulk_create(new_rules)
    values = {key: getattr(rule_set.policy, key) for key in POLICY_KEYS}
    ScoringPolicy.objects.filter(pk=1).update(**values, updated_by=actor, updated_at=now)


def _baseline_version(snapshot: dict) -> RuleSetVersion:
    """Version 1 is the rule set as it was before the first save, so it can be restored."""
    return RuleSetVersion.objects.create(
        number=1,
        rules=snapshot["rules"],
        policy=snapshot["policy"],
        changes=[],
        note="The rules as they were before the first saved version.",
        rescore_status=RescoreStatus.DONE,
    )


def rule_set_save(
    *, rules, policy, note: str = "", actor=None, restored_from: RuleSetVersion | None = None
) -> RuleSetVersion:
    """Validate and put a rule set in force as a new version; re-score in the background.

    Saves are serialised by a lock on the policy row, so version numbers are gapless and each
    version's ``changes`` are against the one before it. The re-score task is sent after
    commit with the version's id.
    """
    rule_set = rule_set_validate(rules=rules, policy=policy)
    errors: dict = {}
    note = _text(note, key="note", errors=errors, max_length=2000)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ScoringPolicy.current()
        ScoringPolicy.objects.select_for_update().get(pk=1)
        before = rule_set_snapshot()
        latest = RuleSetVersion.objects.order_by("-number").first()
        if latest is None:
            latest = _baseline_version(before)
        _apply(rule_set, actor)
        after = rule_set_snapshot()
        version = RuleSetVersion.objects.create(
            number=latest.number + 1,
            rules=after["rules"],
            policy=after["policy"],
            changes=rule_set_changes(before, after),
            note=note,
            restored_from=restored_from,
            created_by=actor,
            rescore_total=Lead.objects.count(),
        )
        enqueue.rule_set_rescore(version.pk)
    return version


def rule_set_restore(*, version_id: int, note: str = "", actor=None) -> RuleSetVersion:
    """Put an earlier version back in force, as a new version that says which it restored."""
    old = RuleSetVersion.objects.filter(pk=version_id).first()
    if old is None:
        raise ValidationError({"version": "No such version."})
    return rule_set_save(
        rules=old.rules,
        policy=old.policy,
        note=note or f"Restored version {old.number}.",
        actor=actor,
        restored_from=old,
    )


def rule_set_rescore(*, version_id: int, now: datetime.datetime | None = None, chunk: int = RESCORE_CHUNK) -> str:
    """Re-score every lead for the version, one id range per transaction, writing progress
    (``rescore_done`` of ``rescore_total``) after each; returns the final status.

    Safe to repeat: a finished or superseded version is left alone, and a run that died half
    way is simply run again (scoring is a pure function of rules and events). It stops as
    superseded when a newer version exists (that version's run re-scores everything). Leads
    that now qualify are moved to MQL by the qualification task, enqueued at the end.
    """
    version = RuleSetVersion.objects.filter(pk=version_id).first()
    if version is None or version.rescore_status in (RescoreStatus.DONE, RescoreStatus.SUPERSEDED):
        return version.rescore_status if version else "missing"
    bounds = Lead.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    RuleSetVersion.objects.filter(pk=version_id).update(
        rescore_status=RescoreStatus.RUNNING,
        rescore_done=0,
        rescore_total=Lead.objects.count(),
        rescore_started_at=timezone.now(),
    )
    lo = bounds["lo"]
    while lo is not None and lo <= bounds["hi"]:
        hi = lo + chunk
        with transaction.atomic():
            if RuleSetVersion.objects.filter(number__gt=version.number).exists():
                RuleSetVersion.objects.filter(pk=version_id).update(
                    rescore_status=RescoreStatus.SUPERSEDED, rescore_finished_at=timezone.now()
                )
                return RescoreStatus.SUPERSEDED
            rescore_lock()  # takes turns with a re-score of every lead (no deadlock)
            scored = _rescore(None, now=now, id_range=(lo, hi))
            RuleSetVersion.objects.filter(pk=version_id).update(rescore_done=F("rescore_done") + scored)
        lo = hi
    with transaction.atomic():
        RuleSetVersion.objects.filter(pk=version_id).update(
            rescore_status=RescoreStatus.DONE, rescore_finished_at=timezone.now()
        )
        enqueue.leads_qualify_ready()
    return RescoreStatus.DONE


def rule_set_versions():
    """Every saved version, newest first, with who saved it (one query)."""
    return RuleSetVersion.objects.select_related("created_by", "restored_from").order_by("-number")
