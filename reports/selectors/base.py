"""What every report shares: the filter form, the shape of a result, and a few SQL helpers.

A report is a selector: it takes validated filters and returns a `ReportResult` of tables
(aggregated in SQL) and charts. The admin page, the CSV export and the API all render that
one result, so the CSV is exactly the table on the page.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, Func, IntegerField, Q, Value, When
from django.db.models.fields import FloatField
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from campaigns.api import Campaign
from config.roles import SALES_REP
from crm.api import SalesQueue
from leads.api import LeadSource, Segment

DEFAULT_WEEKS = 12
TEXT_KINDS = ("text", "note")
MAX_RANGE_DAYS = 3 * 366


# --- result shape ---------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    label: str
    kind: str = "int"  # text, note (long text), int, pct, hours, days, money, float


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    # per row: {column key: admin changelist URL} — the drill-down behind a number
    links: list[dict[str, str]] = field(default_factory=list)
    note: str = ""

    def formatted_rows(self) -> list[list[dict[str, str]]]:
        out = []
        for index, row in enumerate(self.rows):
            row_links = self.links[index] if index < len(self.links) else {}
            out.append(
                [
                    {
                        "text": format_cell(row.get(c.key), c.kind),
                        # a zero opens an empty list: not worth a link
                        "link": row_links.get(c.key, "") if row.get(c.key) not in (0, None, "") else "",
                        "kind": c.kind,
                    }
                    for c in self.columns
                ]
            )
        return out

    def csv_rows(self) -> list[list[str]]:
        return [[c.label for c in self.columns]] + [
            [format_cell(row.get(c.key), c.kind) for c in self.columns] for row in self.rows
        ]

    def as_data(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
            "rows": [{c.key: json_value(row.get(c.key)) for c in self.columns} for row in self.rows],
        }


@dataclass
class ReportResult:
    tables: list[Table]
    charts: list[Any] = field(default_factory=list)  # reports.selectors.charts.Chart
    is_empty: bool = False
    notes: list[str] = field(default_factory=list)

    def table(self, key: str | None) -> Table:
        if not key:
            return self.tables[0]
        for table in self.tables:
            if table.key == key:
                return table
        raise ValidationError({"table": f"Unknown table '{key}'. Choose one of: {', '.join(self.table_keys())}."})

    def table_keys(self) -> list[str]:
        return [t.key for t in self.tables]


def format_cell(value, kind: str) -> str:
    if value is None or value == "":
        return "" if kind in TEXT_KINDS else "—"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind in ("hours", "days", "float"):
        return f"{value:.1f}"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "int":
        return f"{int(value)}"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def json_value(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return float(value) if hasattr(value, "as_tuple") else str(value)


def ratio(numerator, denominator):
    return (numerator / denominator) if denominator else None


# --- filters --------------------------------------------------------------------------------


class DateRangeForm(forms.Form):
    """Date range for every report (default: the last 12 weeks, to today)."""

    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data=None, *args, **kwargs):
        # Show the default range in the inputs, so the page says which dates it covers.
        data = data.copy() if data is not None else {}
        date_to = data.get("date_to") or timezone.localdate().isoformat()
        if not data.get("date_to"):
            data["date_to"] = date_to
        if not data.get("date_from"):
            try:
                end = datetime.date.fromisoformat(date_to)
            except ValueError:
                end = timezone.localdate()
            data["date_from"] = (end - datetime.timedelta(weeks=DEFAULT_WEEKS) + datetime.timedelta(1)).isoformat()
        super().__init__(data, *args, **kwargs)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or (date_to - datetime.timedelta(weeks=DEFAULT_WEEKS) + datetime.timedelta(1))
        if "date_from" in self.errors or "date_to" in self.errors:
            return data
        if date_from > date_to:
            self.add_error("date_from", "The start date must be on or before the end date.")
        elif (date_to - date_from).days > MAX_RANGE_DAYS:
            self.add_error("date_from", "The range may span at most three years.")
        data["date_from"], data["date_to"] = date_from, date_to
        tz = timezone.get_current_timezone()
        data["start"] = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=tz)
        data["end"] = datetime.datetime.combine(date_to + datetime.timedelta(1), datetime.time.min, tzinfo=tz)
        return data


def _rep_queryset():
    return get_user_model().objects.filter(groups__name=SALES_REP).order_by("username")


class RepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


def queue_field():
    return forms.ModelChoiceField(SalesQueue.objects.order_by("name"), required=False, label="Queue")


def rep_field():
    return RepChoiceField(_rep_queryset(), required=False, label="Rep")


def segment_field():
    return forms.ModelChoiceField(Segment.objects.order_by("name"), required=False, label="Segment")


def campaign_field():
    return forms.ModelChoiceField(Campaign.objects.order_by("name"), required=False, label="Campaign")


def source_field():
    return forms.ChoiceField(choices=[("", "Any source"), *LeadSource.choices], required=False, label="Source")


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    return {name: [str(m) for m in messages] for name, messages in form.errors.items()}


def lead_filter_q(data: dict, prefix: str = "") -> Q:
    """The lead-level splits (segment, campaign, source) as one Q on a model reaching the lead
    through ``prefix`` (e.g. ``"lead__"``)."""
    q = Q()
    if data.get("source"):
        q &= Q(**{f"{prefix}source": data["source"]})
    if data.get("campaign"):
        q &= Q(**{f"{prefix}campaign_memberships__campaign": data["campaign"]})
    if data.get("segment"):
        q &= Q(**{f"{prefix}pk__in": segment_lead_ids(data["segment"])})
    return q


def segment_lead_ids(segment):
    """Leads in a segment, as a subquery (the scoring helper compiles the rule tree)."""
    from leads.api import Lead, segment_member_q

    return Lead.objects.filter(segment_member_q(segment)).values("pk")


# --- SQL helpers ----------------------------------------------------------------------------

# Report queries sort and hash hundreds of thousands of rows; PostgreSQL's default work_mem
# (4MB) sends those to disk. Raised for the report's own transaction only.
REPORT_WORK_MEM = "64MB"
# The planner's cost estimates for these aggregates pass PostgreSQL's JIT thresholds, and
# compiling them (LLVM inlining and optimisation) took 1-1.7 s per query at 1M leads, longer
# than running them (0.1-0.5 s). Off for the report's own transaction only.


def build_report(spec, data):
    """Run one report's selector; on PostgreSQL in a transaction sized for analytics. (Not on
    SQLite: its transactions here are IMMEDIATE, and a report must not take the write lock.)"""
    if connection.vendor != "postgresql":
        return spec.build(data)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # one statement, so a page's query count is as before
            cursor.execute("SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [REPORT_WORK_MEM])
        return spec.build(data)


def segment_flag_sql(lead_queryset, segments, **columns) -> tuple[str, list]:
    """SQL selecting, per row of ``lead_queryset`` (leads joined to the records counted), the
    given ``columns`` and a 0/1 column ``_s<pk>`` per segment. Each segment's rules are
    evaluated once per row on the lead already joined, so a breakdown by N segments is one
    pass over the rows, not N semi-joins over every lead."""
    from leads.api import segment_member_q

    flags = {
        f"_s{s.pk}": Case(When(segment_member_q(s), then=Value(1)), default=Value(0), output_field=IntegerField())
        for s in segments
    }
    qs = lead_queryset.order_by().annotate(**columns, **flags).values_list(*columns, *flags)
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


class SecondsBetween(Func):
    """``end - start`` in seconds, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def as_sql(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            return f"EXTRACT(EPOCH FROM ({end} - {start}))::float", [*end_params, *start_params]
        return f"((julianday({end}) - julianday({start})) * 86400.0)", [*end_params, *start_params]


def percentiles(queryset, *, group: str, value: str, ps=(0.5, 0.9)) -> dict[Any, list[float | None]]:
    """Continuous percentiles (as PostgreSQL's ``percentile_cont``) of ``value`` per ``group``
    over a queryset that already annotates both. One query; see `percentiles_sql`."""
    inner = queryset.annotate(_g=F(group), _v=F(value)).filter(_v__isnull=False).values_list("_g", "_v").order_by()
    sql, params = inner.query.sql_with_params()
    return {g: values for g, (values, _n) in percentiles_sql(sql, params, ps).items()}


def percentiles_sql(sql: str, params, ps=(0.5, 0.9)) -> dict[Any, tuple[list[float], int]]:
    """{group: ([percentile per p], rows)} over an SQL query selecting columns ``_g`` and
    ``_v``; rows whose ``_v`` is NULL are ignored. Set-based on both databases: PostgreSQL
    computes ``percentile_cont`` natively; elsewhere window functions pick the two ranked rows
    around each percentile and Python interpolates between those few rows."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cols = ", ".join(f"percentile_cont({float(p)}) WITHIN GROUP (ORDER BY s._v)" for p in ps)
            cursor.execute(f"SELECT s._g, COUNT(*), {cols} FROM ({sql}) s WHERE s._v IS NOT NULL GROUP BY s._g", params)
            return {row[0]: (list(row[2:]), row[1]) for row in cursor.fetchall()}
        positions = " OR ".join(
            f"(rn BETWEEN CAST(1 + {float(p)} * (n - 1) AS INTEGER) AND CAST(1 + {float(p)} * (n - 1) AS INTEGER) + 1)"
            for p in ps
        )
        cursor.execute(
            "SELECT g, v, rn, n FROM (SELECT s._g AS g, s._v AS v, "
            "ROW_NUMBER() OVER (PARTITION BY s._g ORDER BY s._v) AS rn, COUNT(*) OVER (PARTITION BY s._g) AS n "
            f"FROM ({sql}) s WHERE s._v IS NOT NULL) r WHERE {positions}",
            params,
        )
        picked: dict[Any, dict[int, float]] = {}
        counts: dict[Any, int] = {}
        for g, v, rn, n in cursor.fetchall():
            picked.setdefault(g, {})[rn] = v
            counts[g] = n
    out = {}
    for g, ranked in picked.items():
        n = counts[g]
        values = []
        for p in ps:
            pos = 1 + p * (n - 1)
            lo = int(pos)
            frac = pos - lo
            v_lo = ranked[lo]
            v_hi = ranked.get(lo + 1, v_lo)
            values.append(v_lo + frac * (v_hi - v_lo))
        out[g] = (values, n)
    return out


def seconds_between_sql(end: str, start: str) -> str:
    """Raw-SQL twin of `SecondsBetween` for statements written by hand."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({end} - {start}))::float"
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


# --- drill-down -----------------------------------------------------------------------------


def admin_changelist(model_label: str, **params) -> str:
    app, model = model_label.split(".")
    clean = {k: v for k, v in params.items() if v is not None and v != ""}
    return reverse(f"admin:{app}_{model}_changelist") + ("?" + urlencode(clean) if clean else "")


def lead_filter_params(data: dict, prefix: str = "") -> dict:
    """`lead_filter_q`'s splits as changelist parameters (``prefix`` "" on the lead changelist,
    "lead__" on a model pointing at the lead; segment and campaign by `leads.api.lead_list_filters`)."""
    return {
        f"{prefix}source__exact": data.get("source") or None,
        "lead_segment": data["segment"].pk if data.get("segment") else None,
        "lead_campaign": data["campaign"].pk if data.get("campaign") else None,
    }


def week_bounds(week: datetime.date, data: dict) -> tuple[datetime.datetime, datetime.datetime]:
    """The part of ``week`` inside the filter's [start, end)."""
    tz = timezone.get_current_timezone()
    start = max(datetime.datetime.combine(week, datetime.time.min, tzinfo=tz), data["start"])
    end = min(datetime.datetime.combine(week + datetime.timedelta(weeks=1), datetime.time.min, tzinfo=tz), data["end"])
    return start, end


def week_label(week: datetime.date, data: dict):
    """The week itself when the filter covers all of it, else a label that says how much."""
    days = sum(
        1 for offset in range(7) if data["date_from"] <= week + datetime.timedelta(days=offset) <= data["date_to"]
    )
    return week if days == 7 else f"{week.isoformat()} (partial week: {days} of 7 days)"


def iso(dt: datetime.datetime) -> str:
    # with its offset, so the admin filters on the same instant (no naive-datetime warning)
    return timezone.localtime(dt).isoformat()


def weeks_in_range(start: datetime.datetime, end: datetime.datetime) -> list[datetime.date]:
    first = timezone.localtime(start).date()
    first -= datetime.timedelta(days=first.weekday())
    last = (timezone.localtime(end) - datetime.timedelta(microseconds=1)).date()
    weeks = []
    while first <= last:
        weeks.append(first)
        first += datetime.timedelta(weeks=1)
    return weeks


def as_week(value) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value
