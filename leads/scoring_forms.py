"""The scoring page's form codec: the rule set data of ``leads.rule_sets`` <-> flat inputs.

Inputs: ``threshold``, ``fit_minimum``, ``default_half_life_days``, ``rejection_penalty``,
``learned_mode``, ``learned_weight``, ``note``; ``fit-count`` / ``eng-count`` and per row
``fit-<i>-<part>`` (id, name, field, operator, value, segment, points, remove) and
``eng-<i>-<part>`` (id, name, event_kind, points_per_event, cap, half_life_days, remove).
The services name bad fields ``rules.<n>.<field>``; ``Rows`` maps them back to the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .forms import value_from_text, value_to_text
from .models import EngagementKind, LearnedScoreMode
from .rule_sets import POLICY_KEYS
from .segments import FIELDS, OP_LABELS

MAX_ROWS = 100
FIT_PARTS = ("id", "name", "field", "operator", "value", "segment", "points")
ENG_PARTS = ("id", "name", "event_kind", "points_per_event", "cap", "half_life_days")
EVENT_KIND_CHOICES = EngagementKind.choices
LEARNED_CHOICES = LearnedScoreMode.choices
FIELD_NAMES = sorted(FIELDS)
OPERATOR_CHOICES = list(OP_LABELS.items())
SERVICE_KEY = {"segment_id": "segment"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class Rows:
    """What the page shows: the policy inputs, one dict per rule row, and the errors."""

    policy: dict
    fit: list[dict]
    engagement: list[dict]
    note: str = ""
    errors: dict = field(default_factory=dict)  # policy/general errors by input name
    index: list[tuple[str, int]] = field(default_factory=list)  # rules.<n> -> (group, row)

    def as_data(self) -> tuple[list[dict], dict]:
        """The service data (rules, policy) for the rows not marked removed."""
        rules: list[dict] = []
        self.index = []
        for i, row in enumerate(self.fit):
            if row.get("remove"):
                continue
            item = {
                "name": row["name"],
                "kind": "fit",
                "points": row["points"],
                "id": int(row["id"]) if str(row["id"]).isdigit() and len(str(row["id"])) < 12 else None,
            }
            if row["segment"]:
                item["segment_id"] = (
                    int(row["segment"]) if row["segment"].isdigit() and len(row["segment"]) < 12 else -1
                )
            else:
                item["field"], item["operator"] = row["field"], row["operator"]
                item["value"] = value_from_text(row["field"], row["operator"], row["value"], {})
            rules.append(item)
            self.index.append(("fit", i))
        for i, row in enumerate(self.engagement):
            if row.get("remove"):
                continue
            rules.append(
                {
                    "id": int(row["id"]) if str(row["id"]).isdigit() and len(str(row["id"])) < 12 else None,
                    "name": row["name"],
                    "kind": "engagement",
                    "event_kind": row["event_kind"],
                    "points_per_event": row["points_per_event"],
                    "cap": row["cap"] or None,
                    "half_life_days": row["half_life_days"] or None,
                }
            )
            self.index.append(("engagement", i))
        return rules, dict(self.policy)

    def set_errors(self, message_dict: dict) -> None:
        for key, messages in message_dict.items():
            text = " ".join(messages) if isinstance(messages, list) else str(messages)
            parts = key.split(".")
            if parts[0] == "rules" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(self.index):
                group, i = self.index[int(parts[1])]
                rows = self.fit if group == "fit" else self.engagement
                name = SERVICE_KEY.get(parts[2], parts[2]) if len(parts) > 2 else "name"
                rows[i].setdefault("errors", {})[name] = text
            else:
                self.errors[key] = text

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(r.get("errors") for r in (*self.fit, *self.engagement))


def rows_from_snapshot(snapshot: dict) -> Rows:
    fit, eng = [], []
    for rule in snapshot["rules"]:
        if rule["kind"] == "fit":
            fit.append(
                {
                    "id": rule["id"],
                    "name": rule["name"],
                    "field": rule["field"],
                    "operator": rule["operator"],
                    "value": value_to_text(rule["value"]),
                    "segment": _text(rule["segment_id"]),
                    "points": _text(rule["points"]),
                }
            )
        else:
            eng.append(
                {
                    "id": rule["id"],
                    "name": rule["name"],
                    "event_kind": rule["event_kind"],
                    "points_per_event": _text(rule["points_per_event"]),
                    "cap": _text(rule["cap"]),
                    "half_life_days": _text(rule["half_life_days"]),
                }
            )
    policy = {key: _text(snapshot["policy"][key]) for key in POLICY_KEYS}
    return Rows(policy=policy, fit=fit, engagement=eng)


def _count(post, key: str) -> int:
    text = post.get(key, "0")
    return min(int(text), MAX_ROWS) if text.isdigit() and len(text) < 6 else 0


def _clean(value: str) -> str:
    # NUL bytes are refused by the services with a field error; keep them so that happens.
    return value if isinstance(value, str) else ""


def rows_from_post(post) -> Rows:
    fit = [
        {
            **{part: _clean(post.get(f"fit-{i}-{part}", "")) for part in FIT_PARTS},
            "remove": bool(post.get(f"fit-{i}-remove")),
        }
        for i in range(_count(post, "fit-count"))
    ]
    eng = [
        {
            **{part: _clean(post.get(f"eng-{i}-{part}", "")) for part in ENG_PARTS},
            "remove": bool(post.get(f"eng-{i}-remove")),
        }
        for i in range(_count(post, "eng-count"))
    ]
    policy = {key: _clean(post.get(key, "")) for key in POLICY_KEYS}
    return Rows(policy=policy, fit=fit, engagement=eng, note=_clean(post.get("note", "")))


def add_row(rows: Rows, group: str) -> None:
    if group == "fit" and len(rows.fit) < MAX_ROWS:
        rows.fit.append(
            {"id": "", "name": "", "field": "industry", "operator": "eq", "value": "", "segment": "", "points": "10"}
        )
    elif group == "engagement" and len(rows.engagement) < MAX_ROWS:
        rows.engagement.append(
            {"id": "", "name": "", "event_kind": "webinar", "points_per_event": "5", "cap": "", "half_life_days": ""}
        )
