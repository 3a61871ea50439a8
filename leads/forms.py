"""Forms of the marketing pages: the segment builder's tree codec and the import upload."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings

from .models import EngagementKind
from .segments import (
    ATTR,
    ATTR_PREFIX,
    BOOL,
    DATETIME,
    ENGAGEMENT,
    FIELDS,
    FLOAT,
    INT,
    OP_LABELS,
    OPS,
    condition_text,
    field_spec,
)

ROOT = "r"
DEFAULT_CONDITION = {"field": "industry", "op": "eq", "value": ""}
_KEY = re.compile(r"^n-(r(?:\.\d{1,3}){0,12})-(type|field|attr|op|value|kind|count|days)$")
MAX_NODES = 200


class SegmentMetaForm(forms.Form):
    name = forms.CharField(label="Name", max_length=150)
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_icp = forms.BooleanField(label="Ideal customer profile (feeds fit scoring)", required=False)


# --- The builder's form <-> rule tree --------------------------------------------------------


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _scalar(field: str, text: str):
    spec = field_spec(field)
    text = text.strip()
    if spec is None:
        return text
    if spec.type in (INT, FLOAT):
        return _number(text)
    if spec.type == BOOL:
        return {"true": True, "false": False}.get(text.lower(), text)
    if spec.type == ATTR:
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        number = _number(text)
        return number if not isinstance(number, str) else text
    return text


def value_from_text(field: str, op: str, text: str, extra: dict):
    """A condition's value from what the builder's inputs hold."""
    spec = field_spec(field)
    if spec is not None and spec.type == ENGAGEMENT:
        return {
            "kind": extra.get("kind") or "any",
            "count": _number(extra.get("count") or "1"),
            "days": _number(extra.get("days") or "30"),
        }
    if op == "is_empty":
        return text.strip().lower() != "false"
    if op in ("in", "not_in"):
        return [_scalar(field, part) for part in text.split(",") if part.strip()]
    if op == "between":
        return [_scalar(field, part) for part in text.split(",")][:2] if "," in text else [_scalar(field, text)]
    if op == "within_last_days":
        return _number(text.strip())
    if spec is not None and spec.type == DATETIME:
        return text.strip()
    return _scalar(field, text)


def value_to_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(value_to_text(v) for v in value)
    if value is None or isinstance(value, dict):
        return ""
    return str(value)


def tree_from_post(data) -> dict:
    """Rebuild the rule tree from the builder's flat inputs (``n-<path>-<part>``)."""
    parts: dict[str, dict] = {}
    for key in data:
        match = _KEY.match(key)
        if match and len(parts) <= MAX_NODES:
            parts.setdefault(match.group(1), {})[match.group(2)] = data.get(key, "")
    if ROOT not in parts:
        return {"all": []}

    def build(path: str) -> dict:
        node = parts[path]
        kind = node.get("type", "cond")
        children = sorted(
            (p for p in parts if p.startswith(path + ".") and p.count(".") == path.count(".") + 1),
            key=lambda p: int(p.rsplit(".", 1)[1]),
        )
        if kind in ("all", "any"):
            return {kind: [build(c) for c in children]}
        if kind == "not":
            return {"not": build(children[0]) if children else dict(DEFAULT_CONDITION)}
        field = node.get("field", "")
        if field == ATTR_PREFIX:
            field = ATTR_PREFIX + node.get("attr", "").strip()
        spec = field_spec(field)
        op = node.get("op", "")
        if spec is not None and op not in OPS[spec.type]:
            op = OPS[spec.type][0]  # the field changed type: start from its first operator
        return {"field": field, "op": op, "value": value_from_text(field, op, node.get("value", ""), node)}

    return build(ROOT)


def _node_at(tree: dict, path: str):
    node = tree
    for index in path.split(".")[1:]:
        children = _children(node)
        node = children[int(index)]
    return node


def _children(node: dict) -> list:
    if "all" in node:
        return node["all"]
    if "any" in node:
        return node["any"]
    if "not" in node:
        return [node["not"]]
    return []


def apply_action(tree: dict, action: str) -> dict:
    """Add a condition or group to a group, or remove a node; unknown actions change nothing."""
    verb, _, path = action.partition(":")
    try:
        if verb in ("add-cond", "add-group"):
            group = _node_at(tree, path)
            new = dict(DEFAULT_CONDITION) if verb == "add-cond" else {"all": [dict(DEFAULT_CONDITION)]}
            for key in ("all", "any"):
                if key in group:
                    group[key].append(new)
        elif verb == "remove" and path != ROOT:
            parent_path, _, index = path.rpartition(".")
            parent = _node_at(tree, parent_path)
            for key in ("all", "any"):
                if key in parent:
                    del parent[key][int(index)]
            if "not" in parent:
                parent["not"] = dict(DEFAULT_CONDITION)
    except (IndexError, ValueError, KeyError, TypeError):
        pass
    return tree


def builder_rows(tree: dict) -> list[dict]:
    """The tree as rows with depth, for the server-rendered builder."""
    rows: list[dict] = []

    def walk(node, path: str, depth: int):
        if not isinstance(node, dict):
            return
        for key in ("all", "any", "not"):
            if key in node:
                children = _children(node)
                rows.append({"path": path, "depth": depth, "group": key, "can_add": key != "not"})
                for i, child in enumerate(children):
                    walk(child, f"{path}.{i}", depth + 1)
                return
        field = node.get("field", "")
        value = node.get("value")
        row = {
            "path": path,
            "depth": depth,
            "group": None,
            "field": field,
            "field_choice": ATTR_PREFIX if str(field).startswith(ATTR_PREFIX) else field,
            "attr": field[len(ATTR_PREFIX) :] if str(field).startswith(ATTR_PREFIX) else "",
            "op": node.get("op", ""),
            "value": value_to_text(value),
            "ops": OPS[field_spec(field).type]
            if field_spec(field)
            else OPS[ATTR]
            if str(field).startswith(ATTR_PREFIX)
            else (),
            "is_engagement": field == "engagement",
            "text": condition_text(node),
        }
        if isinstance(value, dict):
            row.update(kind=value.get("kind", "any"), count=value.get("count", 1), days=value.get("days", 30))
        rows.append(row)

    walk(tree, ROOT, 0)
    return rows


FIELD_CHOICES = [*((name, spec.label) for name, spec in FIELDS.items()), (ATTR_PREFIX, "Custom attribute…")]
OP_CHOICES = list(OP_LABELS.items())
KIND_CHOICES = [("any", "Any kind"), *EngagementKind.choices]


# --- CSV import upload ----------------------------------------------------------------------


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="CSV file (UTF-8, header row)")
    dry_run = forms.BooleanField(label="Dry run: only report what would happen", required=False, initial=True)
    update_existing = forms.BooleanField(label="Update leads that already exist (matched by email)", required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {settings.IMPORT_MAX_UPLOAD_BYTES} bytes.")
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError("Upload a .csv file.")
        return upload
