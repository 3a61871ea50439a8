"""Marketing's lead list (/marketing/leads/): filters, sorting, keyset pages, CSV export.

It lives in ``campaigns`` because it filters by campaign membership and adds leads to
campaigns (``leads`` cannot read campaigns). Every page costs the same few queries whatever
the page or the table size: the filters compile to one WHERE, and paging is by keyset (``after``
= the sort value and id of the page's last row) on an indexed sort, never OFFSET or COUNT.
"""

from __future__ import annotations

import base64
import csv
import datetime
import json

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from leads.api import Lead, LeadSource, LifecycleStage, Segment, segment_member_q

from .models import Campaign, CampaignMember

PAGE_SIZE = 50
INT_MAX = 2**31 - 1
# sort key -> (column, kind); each column leads an index (lead_created_cover_idx,
# lead_whatif_cover_idx), so a page at 1M leads reads 51 index entries, not a sort of the table.
SORTS = {
    "-created_at": ("created_at", "datetime"),
    "created_at": ("created_at", "datetime"),
    "-score": ("score", "float"),
    "score": ("score", "float"),
}
SORT_LABELS = {
    "-created_at": "Newest first",
    "created_at": "Oldest first",
    "-score": "Highest score",
    "score": "Lowest score",
}
YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
CONSENT_FIELDS = ("email_opt_in", "do_not_call", "do_not_contact")
# Who a list or an export is for: an e-mail send takes only leads opted in to e-mail marketing,
# a call list only leads that may be called; do-not-contact leaves a lead out of both.
AUDIENCES = [("", "Anyone"), ("email", "E-mail marketing (opted in)"), ("calls", "Calls (callable)")]
# A spreadsheet runs a cell starting like this as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "company",
    "company_domain",
    "title",
    "industry",
    "employees",
    "country",
    "source",
    "stage",
    "score",
    "fit_score",
    "engagement_score",
    "email_opt_in",
    "do_not_call",
    "do_not_contact",
    "do_not_profile",
    "created_at",
)


class LeadFilterForm(forms.Form):
    stage = forms.MultipleChoiceField(choices=LifecycleStage.choices, required=False)
    source = forms.ChoiceField(choices=[("", "Any"), *LeadSource.choices], required=False)
    score_min = forms.FloatField(required=False, min_value=-1e9, max_value=1e9, label="Score from")
    score_max = forms.FloatField(required=False, min_value=-1e9, max_value=1e9, label="Score to")
    owner = forms.CharField(required=False, max_length=12, label="Owner")
    segment = forms.IntegerField(required=False, min_value=1, max_value=INT_MAX)
    campaign = forms.IntegerField(required=False, min_value=1, max_value=INT_MAX)
    created_from = forms.DateField(required=False, label="Created from")
    created_to = forms.DateField(required=False, label="Created to")
    email_opt_in = forms.ChoiceField(choices=YES_NO, required=False, label="Email opt-in")
    do_not_call = forms.ChoiceField(choices=YES_NO, required=False, label="Do not call")
    do_not_contact = forms.ChoiceField(choices=YES_NO, required=False, label="Do not contact")
    audience = forms.ChoiceField(choices=AUDIENCES, required=False, label="Reachable by")
    sort = forms.ChoiceField(choices=list(SORT_LABELS.items()), required=False)
    after = forms.CharField(required=False, max_length=400)

    def clean_owner(self):
        value = self.cleaned_data["owner"].strip()
        if value in ("", "none"):
            return value
        if not value.isdigit() or not 0 < int(value) <= INT_MAX:
            raise forms.ValidationError("Choose an owner from the list.")
        return int(value)

    def clean_segment(self):
        pk = self.cleaned_data["segment"]
        if pk is None:
            return None
        segment = Segment.objects.filter(pk=pk).first()
        if segment is None:
            raise forms.ValidationError("No such segment.")
        return segment

    def clean_campaign(self):
        pk = self.cleaned_data["campaign"]
        if pk is not None and not Campaign.objects.filter(pk=pk).exists():
            raise forms.ValidationError("No such campaign.")
        return pk

    def clean(self):
        data = super().clean()
        lo, hi = data.get("score_min"), data.get("score_max")
        if lo is not None and hi is not None and lo > hi:
            self.add_error("score_max", "Must not be below 'Score from'.")
        a, b = data.get("created_from"), data.get("created_to")
        if a and b and a > b:
            self.add_error("created_to", "Must not be before 'Created from'.")
        sort = data.get("sort") or "-created_at"
        data["sort"] = sort
        if data.get("after"):
            try:
                data["after"] = cursor_decode(data["after"], sort)
            except ValueError:
                self.add_error("after", "This page link is not valid any more; start from the first page.")
        else:
            data["after"] = None
        return data


def filtered_leads(data: dict):
    """The leads matching the cleaned filters (a queryset, not yet ordered)."""
    qs = Lead.objects.all()
    if data.get("stage"):
        qs = qs.filter(stage__in=data["stage"])
    if data.get("source"):
        qs = qs.filter(source=data["source"])
    if data.get("score_min") is not None:
        qs = qs.filter(score__gte=data["score_min"])
    if data.get("score_max") is not None:
        qs = qs.filter(score__lte=data["score_max"])
    owner = data.get("owner")
    if owner == "none":
        qs = qs.filter(owner__isnull=True)
    elif owner:
        qs = qs.filter(owner_id=owner)
    if data.get("segment") is not None:
        qs = qs.filter(segment_member_q(data["segment"]))
    if data.get("campaign"):
        qs = qs.filter(Exists(CampaignMember.objects.filter(campaign_id=data["campaign"], lead_id=OuterRef("pk"))))
    tz = datetime.UTC
    if data.get("created_from"):
        qs = qs.filter(created_at__gte=datetime.datetime.combine(data["created_from"], datetime.time.min, tz))
    if data.get("created_to"):
        end = datetime.datetime.combine(data["created_to"], datetime.time.min, tz) + datetime.timedelta(days=1)
        qs = qs.filter(created_at__lt=end)
    for name in CONSENT_FIELDS:
        if data.get(name) in ("yes", "no"):
            qs = qs.filter(**{name: data[name] == "yes"})
    if data.get("audience") == "email":
        qs = qs.filter(email_opt_in=True, do_not_contact=False, erased_at__isnull=True)
    elif data.get("audience") == "calls":
        qs = qs.filter(do_not_call=False, do_not_contact=False, erased_at__isnull=True)
    return qs


def _order(sort: str) -> tuple[str, str]:
    column = SORTS[sort][0]
    return (f"-{column}", "-id") if sort.startswith("-") else (column, "id")


def _after_q(sort: str, after) -> Q:
    column = SORTS[sort][0]
    value, pk = after
    op = "lt" if sort.startswith("-") else "gt"
    return Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": pk})


def lead_page(data: dict, *, size: int = PAGE_SIZE, erased: bool = True) -> tuple[list[Lead], str | None]:
    """One page of leads (with their owner) and the cursor of the next page (None: last).
    ``erased=False`` leaves out erased people (exports)."""
    sort = data.get("sort") or "-created_at"
    qs = filtered_leads(data).select_related("owner").order_by(*_order(sort))
    if not erased:
        qs = qs.filter(erased_at__isnull=True)
    if data.get("after"):
        qs = qs.filter(_after_q(sort, data["after"]))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (cursor_encode(rows[-1], sort) if more and rows else None)


def cursor_encode(lead: Lead, sort: str) -> str:
    column, kind = SORTS[sort]
    value = getattr(lead, column)
    if kind == "datetime":
        value = value.isoformat()
    raw = json.dumps([value, lead.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(text: str, sort: str):
    """``(value, id)`` from a cursor; ValueError for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value, pk = json.loads(raw)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValueError("bad cursor") from None
    if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk <= INT_MAX:
        raise ValueError("bad cursor")
    kind = SORTS[sort][1]
    if kind == "datetime":
        if not isinstance(value, str):
            raise ValueError("bad cursor")
        value = datetime.datetime.fromisoformat(value)
        if value.tzinfo is None:
            raise ValueError("bad cursor")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > 1e15:
            raise ValueError("bad cursor")
    elif not isinstance(value, str) or "\x00" in value or len(value) > 254:
        raise ValueError("bad cursor")
    return value, pk


def owner_choices():
    """Users who own leads or could (reps), for the owner filter: one query."""
    users = get_user_model().objects.filter(groups__name="Sales rep").order_by("username").distinct()
    return [("", "Anyone"), ("none", "Nobody (with marketing)"), *((str(u.pk), u.get_username()) for u in users)]


def csv_safe(value) -> str:
    """A cell as text that a spreadsheet shows as typed instead of running it."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value):
        return value


def csv_rows(data: dict, *, chunk: int = 2000):
    """The CSV of every lead matching the filters, in the chosen order, streamed a keyset
    chunk at a time (memory and statement size stay flat however many leads match).

    Consent is read from the lead rows as the export runs, so a withdrawal counts at once:
    every row carries its consent flags, an ``audience`` export (e-mail or calls) leaves out
    whoever may not be reached that way, and erased people are never exported."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    page_data = {**data, "after": None}
    while True:
        rows, cursor = lead_page(page_data, size=chunk, erased=False)
        for lead in rows:
            yield writer.writerow([csv_safe(getattr(lead, c)) for c in CSV_COLUMNS])
        if cursor is None:
            return
        page_data["after"] = cursor_decode(cursor, page_data.get("sort") or "-created_at")
