"""A brute-force Python evaluation of segment rule trees, the oracle the compiler is tested
against. Deliberately written from the documented semantics, not from the compiler."""

import datetime

from leads.segments import ATTR_PREFIX, parse_moment

MISSING = object()


def _json_type(value) -> str:
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def _attr_matches(actual, op, value) -> bool:
    kind = _json_type(actual)
    if op in ("eq", "neq", "in", "not_in"):
        values = value if op in ("in", "not_in") else [value]
        hit = any(kind == _json_type(v) and actual == v for v in values)
        return not hit if op in ("neq", "not_in") else hit
    if op == "contains":
        return kind == "string" and value.lower() in actual.lower()
    if op == "starts_with":
        return kind == "string" and actual.lower().startswith(value.lower())
    if op == "is_empty":
        empty = kind in ("missing", "null") or actual == ""
        return empty == value
    if kind != "number":
        return False
    return _compare(actual, op, value)


def _compare(actual, op, value) -> bool:
    if op == "gt":
        return actual > value
    if op == "gte":
        return actual >= value
    if op == "lt":
        return actual < value
    if op == "lte":
        return actual <= value
    if op == "between":
        return value[0] <= actual <= value[1]
    raise AssertionError(op)


def condition_holds(cond: dict, lead: dict, events: list[tuple[str, datetime.datetime]], now) -> bool:
    field, op, value = cond["field"], cond["op"], cond["value"]
    if field == "engagement":
        since = now - datetime.timedelta(days=value["days"])
        kind = value.get("kind", "any")
        n = sum(1 for k, at in events if at >= since and (kind == "any" or k == kind))
        return n >= value.get("count", 1)
    if field.startswith(ATTR_PREFIX):
        return _attr_matches(lead["custom_attributes"].get(field[len(ATTR_PREFIX) :], MISSING), op, value)
    actual = lead[field]
    if op == "is_empty":
        return (actual in (None, "")) == value
    if op == "within_last_days":
        return actual is not None and actual >= now - datetime.timedelta(days=value)
    if isinstance(actual, datetime.datetime) or (actual is None and field.endswith("_at")):
        value = [parse_moment(v) for v in value] if op == "between" else parse_moment(value)
    if op in ("eq", "neq"):
        hit = actual is not None and actual == value
        return not hit if op == "neq" else hit
    if op in ("in", "not_in"):
        hit = actual is not None and actual in value
        return not hit if op == "not_in" else hit
    if op == "contains":
        return value.lower() in actual.lower()
    if op == "starts_with":
        return actual.lower().startswith(value.lower())
    if actual is None:
        return False
    return _compare(actual, op, value)


def evaluate(node: dict, lead: dict, events, now) -> bool:
    if "all" in node:
        return all(evaluate(child, lead, events, now) for child in node["all"])
    if "any" in node:
        return any(evaluate(child, lead, events, now) for child in node["any"])
    if "not" in node:
        return not evaluate(node["not"], lead, events, now)
    return condition_holds(node, lead, events, now)
