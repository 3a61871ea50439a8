"""Segment rule trees: validation, compilation to one SQL condition, and explanation.

A node is ``{"all": [nodes]}``, ``{"any": [nodes]}``, ``{"not": node}`` or a condition
``{"field": F, "op": OP, "value": V}``. Fields are Lead model fields, custom attributes as
``attr.<name>``, consent flags, and ``engagement`` (``at_least`` N events of a kind in the
last D days).

"At least one event" is answered from the lead's latest-event columns (``last_<kind>_at``,
``last_engaged_at``), "at least N" up to ``LATEST_ENGAGEMENT_DEPTH`` from the N-th latest event
(``LatestEngagement``); higher counts count the events in an ``EXISTS``.

Semantics are two-valued: every condition compiles to an SQL expression that is never NULL
(nullable columns and JSON attributes carry an explicit "has a value" guard), so ``not`` is
exact negation and a missing value simply does not match ``eq``/``gt``/... while it does match
``neq``/``not_in``. Text ``eq``/``in`` are exact; ``contains``/``starts_with`` ignore case.
An attribute compared with a number matches only when it holds a JSON number, with a string
only when it holds a JSON string.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, Func, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .models import (
    LAST_EVENT_ANY,
    LAST_EVENT_AT,
    LATEST_ENGAGEMENT_DEPTH,
    EngagementEvent,
    EngagementKind,
    LatestEngagement,
    Lead,
    LeadSource,
    LifecycleStage,
)

TEXT, CHOICE, INT, FLOAT, BOOL, DATETIME, ATTR, ENGAGEMENT = (
    "text",
    "choice",
    "integer",
    "number",
    "boolean",
    "datetime",
    "attribute",
    "engagement",
)


@dataclass(frozen=True)
class FieldSpec:
    type: str
    nullable: bool = False
    choices: tuple[str, ...] = ()
    label: str = ""


FIELDS: dict[str, FieldSpec] = {
    "first_name": FieldSpec(TEXT, label="First name"),
    "last_name": FieldSpec(TEXT, label="Last name"),
    "email": FieldSpec(TEXT, label="Email"),
    "phone": FieldSpec(TEXT, label="Phone"),
    "title": FieldSpec(TEXT, label="Job title"),
    "company": FieldSpec(TEXT, label="Company"),
    "company_domain": FieldSpec(TEXT, label="Company domain"),
    "industry": FieldSpec(TEXT, label="Industry"),
    "country": FieldSpec(TEXT, label="Country"),
    "timezone": FieldSpec(TEXT, label="Time zone"),
    "source": FieldSpec(CHOICE, choices=tuple(LeadSource.values), label="Source"),
    "stage": FieldSpec(CHOICE, choices=tuple(LifecycleStage.values), label="Lifecycle stage"),
    "employees": FieldSpec(INT, nullable=True, label="Employees"),
    "fit_score": FieldSpec(INT, label="Fit score"),
    "engagement_score": FieldSpec(FLOAT, label="Engagement score"),
    "score": FieldSpec(FLOAT, label="Score"),
    "learned_score": FieldSpec(FLOAT, nullable=True, label="Learned score"),
    "email_opt_in": FieldSpec(BOOL, label="Email opt-in"),
    "do_not_call": FieldSpec(BOOL, label="Do not call"),
    "do_not_contact": FieldSpec(BOOL, label="Do not contact"),
    "created_at": FieldSpec(DATETIME, label="Created"),
    "qualified_at": FieldSpec(DATETIME, nullable=True, label="Qualified"),
    "last_engaged_at": FieldSpec(DATETIME, nullable=True, label="Last engaged"),
    "stage_changed_at": FieldSpec(DATETIME, nullable=True, label="Stage changed"),
    "scored_at": FieldSpec(DATETIME, nullable=True, label="Scored"),
    "engagement": FieldSpec(ENGAGEMENT, label="Engagement"),
}
ATTR_PREFIX = "attr."
ATTR_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

_COMPARE = ("gt", "gte", "lt", "lte", "between")
OPS: dict[str, tuple[str, ...]] = {
    TEXT: ("eq", "neq", "in", "not_in", "contains", "starts_with", "is_empty"),
    CHOICE: ("eq", "neq", "in", "not_in"),
    INT: ("eq", "neq", "in", "not_in", *_COMPARE, "is_empty"),
    FLOAT: ("eq", "neq", "in", "not_in", *_COMPARE, "is_empty"),
    BOOL: ("eq", "neq"),
    DATETIME: (*_COMPARE, "within_last_days", "is_empty"),
    ATTR: ("eq", "neq", "in", "not_in", "contains", "starts_with", *_COMPARE, "is_empty"),
    ENGAGEMENT: ("at_least",),
}
OP_LABELS = {
    "eq": "equals",
    "neq": "does not equal",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "starts_with": "starts with",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "between": "is between",
    "is_empty": "is empty",
    "within_last_days": "within the last N days",
    "at_least": "at least",
}
ALL_OPS = tuple(OP_LABELS)
GROUP_KEYS = ("all", "any", "not")
MAX_TEXT = 1000
MAX_LIST = 1000
MAX_DAYS = 36_500


def max_depth() -> int:
    return getattr(settings, "SEGMENT_MAX_DEPTH", 8)


def max_conditions() -> int:
    return getattr(settings, "SEGMENT_MAX_CONDITIONS", 100)


class _Errors:
    def __init__(self):
        self.items: dict[str, list[str]] = {}

    def add(self, path: tuple, message: str) -> None:
        key = ".".join(["definition", *(str(p) for p in path)])
        self.items.setdefault(key, []).append(message)


def field_spec(field) -> FieldSpec | None:
    if not isinstance(field, str):
        return None
    if field.startswith(ATTR_PREFIX):
        return FieldSpec(ATTR, nullable=True, label=field) if ATTR_NAME_RE.match(field[len(ATTR_PREFIX) :]) else None
    return FIELDS.get(field)


# --- Validation ----------------------------------------------------------------------------


def validate_definition(definition) -> None:
    """Raise ``ValidationError`` naming every problem by its path in the tree (keys like
    ``definition.all.2.value``); return None when the tree compiles."""
    errors = _Errors()
    counter = [0]
    if not isinstance(definition, dict):
        errors.add((), 'A definition must be a JSON object such as {"all": [...]}.')
    else:
        _validate_node(definition, (), 1, errors, counter)
    if counter[0] > max_conditions():
        errors.add((), f"Too many conditions ({counter[0]}); at most {max_conditions()} are allowed.")
    if errors.items:
        raise ValidationError(errors.items)


def _validate_node(node, path: tuple, depth: int, errors: _Errors, counter: list[int]) -> None:
    if not isinstance(node, dict):
        errors.add(path, "Each node must be a JSON object: a group (all/any/not) or a condition.")
        return
    groups = [key for key in GROUP_KEYS if key in node]
    if groups:
        if depth > max_depth():
            errors.add(path, f"Nested too deep: at most {max_depth()} levels of groups are allowed.")
            return
        if len(node) != 1:
            errors.add(path, f"A group has exactly one key ({', '.join(GROUP_KEYS)}); found {sorted(node)}.")
            return
        key = groups[0]
        child = node[key]
        if key == "not":
            _validate_node(child, (*path, "not"), depth + 1, errors, counter)
            return
        if not isinstance(child, list):
            errors.add((*path, key), f"'{key}' must be a list of nodes.")
            return
        for index, item in enumerate(child):
            _validate_node(item, (*path, key, index), depth + 1, errors, counter)
        return
    if "field" not in node:
        errors.add(path, "Unknown node: expected 'all', 'any', 'not' or a condition with 'field', 'op', 'value'.")
        return
    counter[0] += 1
    validate_condition(node, path=path, errors=errors)


def validate_condition(condition: dict, *, path: tuple = (), errors: _Errors | None = None) -> None:
    """Check one condition; with ``errors`` collect into it, otherwise raise."""
    own = errors is None
    errors = errors or _Errors()
    extra = set(condition) - {"field", "op", "value"}
    if extra:
        errors.add(path, f"Unknown keys in condition: {', '.join(sorted(map(str, extra)))}.")
    field = condition.get("field")
    spec = field_spec(field)
    if spec is None:
        if isinstance(field, str) and field.startswith(ATTR_PREFIX):
            errors.add((*path, "field"), f"'{field}': attribute names use letters, digits and _ (at most 64).")
        else:
            errors.add((*path, "field"), f"Unknown field '{field}'.")
    else:
        op = condition.get("op")
        if op not in OPS[spec.type]:
            errors.add(
                (*path, "op"),
                f"Operator '{op}' does not apply to {spec.type} field '{field}'; use one of: "
                f"{', '.join(OPS[spec.type])}.",
            )
        elif "value" not in condition:
            errors.add((*path, "value"), "A condition needs a 'value'.")
        else:
            problem = _value_problem(spec, op, condition["value"])
            if problem:
                errors.add((*path, "value"), problem)
    if own and errors.items:
        raise ValidationError(errors.items)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _scalar_problem(spec: FieldSpec, value) -> str | None:
    if spec.type == TEXT:
        if not isinstance(value, str):
            return "Expected text."
        if len(value) > MAX_TEXT:
            return f"Text longer than {MAX_TEXT} characters."
    elif spec.type == CHOICE:
        if value not in spec.choices:
            return f"'{value}' is not one of: {', '.join(spec.choices)}."
    elif spec.type == INT:
        if not (isinstance(value, int) and not isinstance(value, bool)) or abs(value) > 2**53:
            return "Expected a whole number."
    elif spec.type == FLOAT:
        if not _is_number(value):
            return "Expected a number."
    elif spec.type == BOOL:
        if not isinstance(value, bool):
            return "Expected true or false."
    elif spec.type == DATETIME:
        if parse_moment(value) is None:
            return "Expected a date (YYYY-MM-DD) or an ISO date-time."
    elif spec.type == ATTR:
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                return f"Text longer than {MAX_TEXT} characters."
        elif not (_is_number(value) or isinstance(value, bool)):
            return "Expected text, a number or true/false."
    return None


def _value_problem(spec: FieldSpec, op: str, value) -> str | None:
    if op == "is_empty":
        return None if isinstance(value, bool) else "is_empty takes true or false."
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            return f"'{op}' takes a non-empty list."
        if len(value) > MAX_LIST:
            return f"At most {MAX_LIST} values."
        for item in value:
            problem = _scalar_problem(spec, item)
            if problem:
                return f"{problem} (in {item!r})"
        return None
    if op in ("contains", "starts_with"):
        if not isinstance(value, str) or not value:
            return f"'{op}' takes non-empty text."
        return "Text longer than 1000 characters." if len(value) > MAX_TEXT else None
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            return "'between' takes [low, high]."
        for item in value:
            problem = _compare_problem(spec, item)
            if problem:
                return problem
        low, high = value
        if spec.type == DATETIME:
            low, high = parse_moment(low), parse_moment(high)
        if low > high:
            return "'between' needs low <= high."
        return None
    if op in ("gt", "gte", "lt", "lte"):
        return _compare_problem(spec, value)
    if op == "within_last_days":
        return (
            None
            if _is_number(value) and 0 < value <= MAX_DAYS
            else f"Expected a number of days, 0 < days <= {MAX_DAYS}."
        )
    if op == "at_least":
        return _engagement_problem(value)
    return _scalar_problem(spec, value)


def _compare_problem(spec: FieldSpec, value) -> str | None:
    if spec.type == ATTR:
        return None if _is_number(value) else "Expected a number."
    return _scalar_problem(spec, value)


def _engagement_problem(value) -> str | None:
    if not isinstance(value, dict):
        return 'Expected {"kind": K, "count": N, "days": D}.'
    extra = set(value) - {"kind", "count", "days"}
    if extra:
        return f"Unknown keys: {', '.join(sorted(map(str, extra)))}."
    kind = value.get("kind", "any")
    if kind != "any" and kind not in EngagementKind.values:
        return f"Unknown engagement kind '{kind}'; use 'any' or one of: {', '.join(EngagementKind.values)}."
    count = value.get("count", 1)
    if not (isinstance(count, int) and not isinstance(count, bool)) or not 1 <= count <= 100_000:
        return "'count' must be a whole number from 1 to 100000."
    days = value.get("days")
    if not _is_number(days) or not 0 < days <= MAX_DAYS:
        return f"'days' must be a number of days, 0 < days <= {MAX_DAYS}."
    return None


def parse_moment(value) -> datetime.datetime | None:
    """An aware datetime from an ISO date or date-time string (dates mean midnight UTC)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                return None
            moment = datetime.datetime.combine(day, datetime.time.min)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


# --- Compilation ---------------------------------------------------------------------------


class _JSONKeyTypeIn(Func):
    """True when ``custom_attributes -> key`` has one of the given JSON types.

    Types use PostgreSQL's names (number, string, boolean, null) plus ``missing``; SQLite's
    JSON_TYPE names are mapped onto them. Never NULL, so it guards a comparison two-valued.
    """

    output_field = BooleanField()
    _SQLITE = {"number": ("integer", "real"), "string": ("text",), "boolean": ("true", "false"), "null": ("null",)}

    def __init__(self, key: str, types: tuple[str, ...]):
        super().__init__(F("custom_attributes"))
        self.key, self.types = key, types

    def as_sql(self, compiler, connection, **extra):  # pragma: no cover - only the two backends
        raise NotImplementedError(f"Segments on attributes support SQLite and PostgreSQL, not {connection.vendor}.")

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        names = ", ".join(["%s"] * len(self.types))
        return f"(COALESCE(jsonb_typeof({column} -> %s), 'missing') IN ({names}))", (*params, self.key, *self.types)

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        names = [name for t in self.types for name in self._SQLITE.get(t, (t,))]
        marks = ", ".join(["%s"] * len(names))
        return f"(COALESCE(JSON_TYPE({column}, %s), 'missing') IN ({marks}))", (*params, f'$."{self.key}"', *names)


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    return "number"


def _attr_q(name: str, op: str, value) -> Q:
    def lookup(lookup_name: str, rhs) -> Q:
        # Always an explicit final lookup, so a key named like a lookup ("in") stays a key.
        return Q(**{f"custom_attributes__{name}__{lookup_name}": rhs})

    def typed(types: tuple[str, ...]) -> Q:
        return Q(_JSONKeyTypeIn(name, types))

    if op in ("eq", "neq", "in", "not_in"):
        values = value if op in ("in", "not_in") else [value]
        matched = Q(pk__in=[])
        for item in values:
            matched |= typed((_json_type(item),)) & lookup("exact", item)
        return ~matched if op in ("neq", "not_in") else matched
    if op == "contains":
        return typed(("string",)) & lookup("icontains", value)
    if op == "starts_with":
        return typed(("string",)) & lookup("istartswith", value)
    if op == "between":
        return typed(("number",)) & lookup("gte", value[0]) & lookup("lte", value[1])
    if op in ("gt", "gte", "lt", "lte"):
        return typed(("number",)) & lookup(op, value)
    if op == "is_empty":
        empty = typed(("missing", "null")) | (typed(("string",)) & lookup("exact", ""))
        return empty if value else ~empty
    raise ValueError(op)  # pragma: no cover - validated before


def _engagement_q(value: dict, now: datetime.datetime) -> Q:
    since = now - datetime.timedelta(days=value["days"])
    kind = value.get("kind", "any")
    count = value.get("count", 1)
    if count == 1:
        # One event since then exactly when the latest one is since then: a test of the lead's
        # own latest-event column (kept by leads.services, partially indexed), no join with
        # the events. The guard keeps it FALSE, not NULL, for a lead without such events.
        field = LAST_EVENT_ANY if kind == "any" else LAST_EVENT_AT[kind]
        return Q(**{f"{field}__isnull": False, f"{field}__gte": since})
    if count <= LATEST_ENGAGEMENT_DEPTH:
        # N events since then exactly when the N-th latest is since then: a plain EXISTS that
        # PostgreSQL turns into a (anti-)semi-join over one index range.
        ranked = LatestEngagement.objects.filter(lead=OuterRef("pk"), kind=kind, nth=count, occurred_at__gte=since)
        return Q(Exists(ranked))
    events = EngagementEvent.objects.filter(lead=OuterRef("pk"), occurred_at__gte=since)
    if kind != "any":
        events = events.filter(kind=kind)
    if count > 1:
        events = events.values("lead").annotate(n=Count("id")).filter(n__gte=count)
    return Q(Exists(events))


def _field_q(field: str, spec: FieldSpec, op: str, value, now: datetime.datetime) -> Q:
    if spec.type == DATETIME:
        if op == "within_last_days":
            op, value = "gte", now - datetime.timedelta(days=value)
        elif op == "between":
            value = [parse_moment(value[0]), parse_moment(value[1])]
        elif op != "is_empty":
            value = parse_moment(value)
    if op == "is_empty":
        empty = Q(**{field: ""}) if spec.type == TEXT else Q(**{f"{field}__isnull": True})
        return empty if value else ~empty
    if op in ("eq", "neq"):
        matched = Q(**{field: value})
    elif op in ("in", "not_in"):
        matched = Q(**{f"{field}__in": value})
    elif op == "contains":
        matched = Q(**{f"{field}__icontains": value})
    elif op == "starts_with":
        matched = Q(**{f"{field}__istartswith": value})
    elif op == "between":
        matched = Q(**{f"{field}__gte": value[0], f"{field}__lte": value[1]})
    else:
        matched = Q(**{f"{field}__{op}": value})
    if spec.nullable:
        # Guard so the condition is FALSE, not NULL, on a missing value: NOT stays exact.
        matched = Q(**{f"{field}__isnull": False}) & matched
    return ~matched if op in ("neq", "not_in") else matched


def compile_condition(condition: dict, *, now: datetime.datetime | None = None) -> Q:
    """One validated condition as a Q over Lead."""
    now = now or timezone.now()
    field, op, value = condition["field"], condition["op"], condition["value"]
    spec = field_spec(field)
    if spec.type == ATTR:
        return _attr_q(field[len(ATTR_PREFIX) :], op, value)
    if spec.type == ENGAGEMENT:
        return _engagement_q(value, now)
    return _field_q(field, spec, op, value, now)


def _compile_node(node: dict, now: datetime.datetime) -> Q:
    if "all" in node:
        result = ~Q(pk__in=[])  # everything; plain Q() would vanish under "not"
        for child in node["all"]:
            result &= _compile_node(child, now)
        return result
    if "any" in node:
        result = Q(pk__in=[])
        for child in node["any"]:
            result |= _compile_node(child, now)
        return result
    if "not" in node:
        return ~_compile_node(node["not"], now)
    return compile_condition(node, now=now)


def compile_definition(definition, *, now: datetime.datetime | None = None) -> Q:
    """Validate and compile a rule tree into one Q over Lead (an SQL WHERE clause, with
    EXISTS subqueries for engagement). ``now`` anchors relative dates (default: now)."""
    validate_definition(definition)
    return _compile_node(definition, now or timezone.now())


def segment_member_q(segment) -> Q:
    """The Q selecting a segment's members: ``Lead.objects.filter(segment_member_q(s))``.

    Takes a Segment (or a definition dict). To filter another model by membership use
    ``lead__in=Lead.objects.filter(segment_member_q(s))``.
    """
    definition = segment if isinstance(segment, dict) else segment.definition
    return compile_definition(definition)


def segment_contains(*, segment_id: int, lead_id: int) -> bool:
    """Whether the lead is in the segment now (one query after loading the segment)."""
    from .models import Segment

    segment = Segment.objects.only("definition").get(pk=segment_id)
    return Lead.objects.filter(pk=lead_id).filter(segment_member_q(segment)).exists()


# --- Explanation ---------------------------------------------------------------------------


def _leaves(node: dict, path: tuple, out: list) -> None:
    for key in ("all", "any"):
        if key in node:
            for index, child in enumerate(node[key]):
                _leaves(child, (*path, key, index), out)
            return
    if "not" in node:
        _leaves(node["not"], (*path, "not"), out)
        return
    out.append((path, node))


def explain_definition(definition, *, lead_id: int, now: datetime.datetime | None = None) -> dict:
    """Which conditions hold for one lead: the tree with ``matched`` on every node.

    One query: each condition becomes a boolean column for that lead. Raises
    ``Lead.DoesNotExist`` for an unknown lead.
    """
    validate_definition(definition)
    now = now or timezone.now()
    leaves: list = []
    _leaves(definition, (), leaves)
    columns = {
        f"c{i}": ExpressionWrapper(compile_condition(cond, now=now), output_field=BooleanField())
        for i, (_path, cond) in enumerate(leaves)
    }
    row = Lead.objects.filter(pk=lead_id).values("pk", **columns).first() if columns else None
    if row is None:
        if not Lead.objects.filter(pk=lead_id).exists():
            raise Lead.DoesNotExist(f"Lead {lead_id} does not exist.")
        row = {}
    held = {path: bool(row[f"c{i}"]) for i, (path, _c) in enumerate(leaves)}
    return _explain_node(definition, (), held)


def _explain_node(node: dict, path: tuple, held: dict) -> dict:
    for key in ("all", "any"):
        if key in node:
            children = [_explain_node(child, (*path, key, i), held) for i, child in enumerate(node[key])]
            matched = (all if key == "all" else any)(c["matched"] for c in children)
            return {"group": key, "path": _path_text(path), "matched": matched, "children": children}
    if "not" in node:
        child = _explain_node(node["not"], (*path, "not"), held)
        return {"group": "not", "path": _path_text(path), "matched": not child["matched"], "children": [child]}
    return {
        "field": node["field"],
        "op": node["op"],
        "value": node["value"],
        "path": _path_text(path),
        "matched": held[path],
        "text": condition_text(node),
    }


def _path_text(path: tuple) -> str:
    return ".".join(["definition", *(str(p) for p in path)])


def condition_text(condition: dict) -> str:
    """A condition as a marketer would read it."""
    field, op, value = condition.get("field"), condition.get("op"), condition.get("value")
    if field == "engagement" and isinstance(value, dict):
        kind = value.get("kind", "any")
        return f"at least {value.get('count', 1)} {kind} event(s) in the last {value.get('days')} days"
    label = FIELDS[field].label if field in FIELDS else field
    if op == "is_empty":
        return f"{label} is {'empty' if value else 'not empty'}"
    if op == "between" and isinstance(value, list) and len(value) == 2:
        return f"{label} is between {value[0]} and {value[1]}"
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return f"{label} {OP_LABELS.get(op, op)} {value}"
