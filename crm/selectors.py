"""Reads of sales data. Row visibility is applied here: a rep's querysets only ever hold
their own rows; managers see all; anyone else (marketing) sees no individual sales rows."""

from __future__ import annotations

import datetime
import json
import threading
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DateTimeField,
    Exists,
    Expression,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.api import CampaignMember, CollateralShare
from config.roles import is_marketer, is_rep, sees_all_sales_data
from leads.api import Lead, LeadTransition, LifecycleStage

from .models import (
    OPEN_FOR_REP_STATUSES,
    Account,
    Assignment,
    AssignmentStatus,
    Call,
    Contact,
    Deal,
    FollowUp,
    FollowUpKind,
    ObjectionNote,
    QueueMembership,
    SalesQueue,
)

NOTHING = Q(pk__in=[])


def assignment_list_for_user(*, user) -> QuerySet[Assignment]:
    """Managers see every assignment, a rep their own. Marketing sees the rejected ones only:
    a rejected lead is marketing's again, and the reason sales gave is marketing's to read."""
    qs = Assignment.objects.select_related("lead", "queue", "rep")
    if sees_all_sales_data(user):
        return qs
    if is_rep(user):
        # Not the ones moved away from the rep, nor any of a lead another rep now holds: the
        # lead's name and e-mail go with it to the new rep. Their own rejections stay.
        held_by_other = Assignment.objects.filter(
            lead=OuterRef("lead_id"), status__in=OPEN_FOR_REP_STATUSES, rep__isnull=False
        ).exclude(rep=user)
        return qs.filter(rep=user).exclude(status=AssignmentStatus.REASSIGNED).exclude(Exists(held_by_other))
    if is_marketer(user):
        return qs.filter(status=AssignmentStatus.REJECTED)
    return qs.none()


def queue_list_for_user(*, user) -> QuerySet[SalesQueue]:
    """Managers and marketing read every queue; a rep the queues they are a member of. Each
    queue carries its members (with ``open_count``) and ``waiting_count``."""
    members = QueueMembership.objects.select_related("rep").annotate(
        open_count=Count(
            "rep__assignments",
            filter=Q(rep__assignments__queue=F("queue"), rep__assignments__status__in=OPEN_FOR_REP_STATUSES),
        )
    )
    qs = (
        SalesQueue.objects.select_related("segment", "manager")
        .prefetch_related(Prefetch("memberships", queryset=members.order_by("rep__username")))
        .annotate(waiting_count=Count("assignments", filter=Q(assignments__status=AssignmentStatus.QUEUED)))
        .order_by("priority", "id")
    )
    if sees_all_sales_data(user) or is_marketer(user):
        return qs
    if is_rep(user):
        return qs.filter(pk__in=QueueMembership.objects.filter(rep=user).values("queue_id"))
    return qs.none()


# --- Row visibility --------------------------------------------------------------------------


def lead_visible_q(user) -> Q:
    """A rep's leads: the ones with an open assignment to them, and the ones they own that
    no other rep holds an open assignment for. Visibility follows the active assignment
    first, so a lead moved to another rep disappears for the old one however the move was
    made (service, SLA check, or an admin edit that left ``owner`` behind)."""
    if sees_all_sales_data(user):
        return Q()
    if not is_rep(user):
        return NOTHING
    open_assignments = Assignment.objects.filter(lead=OuterRef("pk"), status__in=OPEN_FOR_REP_STATUSES)
    mine = open_assignments.filter(rep=user)
    someone_elses = open_assignments.filter(rep__isnull=False).exclude(rep=user)
    return Q(Exists(mine)) | (Q(owner=user) & ~Q(Exists(someone_elses)))


def deal_visible_q(user) -> Q:
    if sees_all_sales_data(user):
        return Q()
    return Q(owner=user) if is_rep(user) else NOTHING


def account_visible_q(user) -> Q:
    if sees_all_sales_data(user):
        return Q()
    if not is_rep(user):
        return NOTHING
    return Q(owner=user) | Q(Exists(Deal.objects.filter(account=OuterRef("pk"), owner=user)))


def contact_visible_q(user) -> Q:
    if sees_all_sales_data(user):
        return Q()
    if not is_rep(user):
        return NOTHING
    return Q(account__owner=user) | Q(Exists(Deal.objects.filter(account=OuterRef("account_id"), owner=user)))


def call_visible_q(user) -> Q:
    if sees_all_sales_data(user):
        return Q()
    return Q(rep=user) if is_rep(user) else NOTHING


# --- Single rows and lists ---------------------------------------------------------------------


def lead_get_for_user(*, user, lead_id) -> Lead | None:
    return (
        Lead.objects.filter(lead_visible_q(user)).select_related("owner", "contact__account").filter(pk=lead_id).first()
    )


def call_history_for_user(*, user) -> QuerySet[Call]:
    return (
        Call.objects.filter(call_visible_q(user))
        .select_related("rep", "lead", "contact")
        .prefetch_related(Prefetch("objections", queryset=ObjectionNote.objects.select_related("collateral")))
    )


def objection_list_for_user(*, user) -> QuerySet[ObjectionNote]:
    if sees_all_sales_data(user):
        qs = ObjectionNote.objects.all()
    elif is_rep(user):
        qs = ObjectionNote.objects.filter(call__rep=user)
    else:
        qs = ObjectionNote.objects.none()
    return qs.select_related("call", "lead", "collateral")


def objection_summary(*, user) -> list[dict]:
    """Objections by category, with how often they were overcome: what marketing reads."""
    if sees_all_sales_data(user) or not is_rep(user):
        qs = ObjectionNote.objects.all()
    else:
        qs = ObjectionNote.objects.filter(call__rep=user)
    return list(
        qs.values("category")
        .annotate(total=Count("id"), overcome=Count("id", filter=Q(overcome=True)))
        .order_by("-total", "category")
    )


def deal_list_for_user(*, user) -> QuerySet[Deal]:
    return Deal.objects.filter(deal_visible_q(user)).select_related("account", "contact", "lead", "owner")


def deal_summary(*, user) -> list[dict]:
    """Deals by stage (count and amount) and, for lost deals, by reason: outcomes in aggregate."""
    qs = Deal.objects.all() if (sees_all_sales_data(user) or not is_rep(user)) else Deal.objects.filter(owner=user)
    return list(
        qs.values("stage", "lost_reason")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("stage", "lost_reason")
    )


def account_list_for_user(*, user) -> QuerySet[Account]:
    return Account.objects.filter(account_visible_q(user)).select_related("owner")


def contact_list_for_user(*, user) -> QuerySet[Contact]:
    return Contact.objects.filter(contact_visible_q(user)).select_related("account", "lead")


# --- Score reasons -----------------------------------------------------------------------------


def score_reasons(breakdown, *, limit: int | None = None) -> list[dict]:
    """The score breakdown as [{"label", "points"}], biggest contribution first.

    Read defensively: scoring stores a list of {"rule" or "label", "points"} objects, but a
    lead scored by an older version, imported, or never scored may hold anything.
    """
    items = []
    if isinstance(breakdown, dict):
        entries = []
        for key, value in breakdown.items():
            if isinstance(value, list):
                entries.extend(value)
            elif isinstance(value, (int, float)):
                entries.append({"label": key, "points": value})
            elif isinstance(value, dict):
                entries.append({"label": key, **value})
    elif isinstance(breakdown, list):
        entries = breakdown
    else:
        entries = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        label = entry.get("label") or entry.get("rule") or entry.get("name") or entry.get("kind")
        try:
            points = float(entry.get("points", 0) or 0)
        except (TypeError, ValueError):
            continue
        if label:
            items.append({"label": str(label), "points": points})
    items.sort(key=lambda item: -item["points"])
    return items[:limit] if limit else items


# --- Statements compiled once --------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """Stands in a compiled statement's parameters for a value supplied when it runs."""

    name: str
    prepare: Callable[[Any, Any], Any]  # (value, connection) -> the database's parameter


class Param(Expression):
    """A value given each time a :class:`CompiledQuery` runs, compiled to one placeholder."""

    def __init__(self, name: str, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", (_Slot(self.name, self.output_field.get_db_prep_value),)


class CompiledQuery:
    """A queryset compiled to SQL once and run again with new :class:`Param` values.

    Building and compiling an ORM query with a dozen annotations costs a few milliseconds
    of Python, more than PostgreSQL needs to run it; a page shown on every log-in pays
    that once per thread instead. The rows come back as dicts keyed by the selected names,
    converted by the same converters the ORM would apply (JSON, SQLite dates ...).
    """

    def __init__(self, queryset: QuerySet, connection):
        compiler = queryset.query.get_compiler(connection=connection)
        self.sql, params = compiler.as_sql()
        self.params = tuple(params)
        selected = compiler.select[: compiler.col_count]
        self.names = tuple(alias or expression.target.attname for expression, _sql, alias in selected)
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"Selected names are not unique: {self.names}")
        self.converters = compiler.get_converters([expression for expression, _sql, _alias in selected])
        self.compiler = compiler

    def rows(self, **values) -> list[dict]:
        connection = self.compiler.connection
        params = [
            param.prepare(values[param.name], connection) if isinstance(param, _Slot) else param
            for param in self.params
        ]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in rows]


_compiled = threading.local()
COMPILED_QUERIES_PER_THREAD = 64  # a key per statement and page size; the API takes 1-200


def compiled_query(key: tuple, build: Callable[[], QuerySet]) -> CompiledQuery:
    """The query ``build()`` returns, compiled once per thread and database connection
    (the least recently used of more than ``COMPILED_QUERIES_PER_THREAD`` are dropped)."""
    db = connections[DEFAULT_DB_ALIAS]
    cache = getattr(_compiled, "queries", None)
    if cache is None:
        cache = _compiled.queries = OrderedDict()
    compiled = cache.get(key)
    if compiled is None or compiled.compiler.connection is not db:
        compiled = cache[key] = CompiledQuery(build(), db)
        while len(cache) > COMPILED_QUERIES_PER_THREAD:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return compiled


# --- The call list -------------------------------------------------------------------------------

BUCKET_OVERDUE = 0
BUCKET_CALLBACK_OVERDUE = 1
BUCKET_DUE = 2
BUCKET_NEW = 3
BUCKET_CHECK_IN = 4
BUCKET_LATER = 5
BUCKET_LABELS = {
    BUCKET_OVERDUE: "SLA overdue",
    BUCKET_CALLBACK_OVERDUE: "Callback overdue",
    BUCKET_DUE: "Callback due",
    BUCKET_NEW: "New",
    BUCKET_CHECK_IN: "Check-in due",
    BUCKET_LATER: "In progress",
}


@lru_cache(maxsize=1)
def _all_timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones() | {"UTC"}))


@lru_cache(maxsize=4)
def _timezones_outside_hours(minute: datetime.datetime, start: int, end: int) -> tuple[str, ...]:
    outside = []
    for name in _all_timezones():
        try:
            local = minute.astimezone(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
        if not (start <= local.hour < end):
            outside.append(name)
    return tuple(outside)


def timezones_outside_calling_hours(now: datetime.datetime) -> tuple[str, ...]:
    """Every IANA zone whose local time is outside calling hours now (cached per minute).

    Computed in Python once a minute so the call list can mark rows with a plain
    ``timezone IN (...)`` that runs the same on PostgreSQL and SQLite.
    """
    minute = now.astimezone(datetime.UTC).replace(second=0, microsecond=0)
    return _timezones_outside_hours(minute, settings.CALLING_HOURS_START, settings.CALLING_HOURS_END)


class TimezoneIn(Func):
    """``<time zone column> IN (<the zones in a Param>)`` as a boolean.

    The zones (a few hundred names) travel as one string parameter: on PostgreSQL split
    with ``string_to_array`` (immutable, so folded into one hashed array when planned);
    elsewhere (SQLite) as a JSON array read with ``json_each``. A list of separate
    parameters would change the statement's text with the number of zones and cost more to
    send than the query takes to run.
    """

    output_field = BooleanField()

    def __init__(self, field: str, param_name: str):
        super().__init__(F(field))
        self.param_name = param_name

    @staticmethod
    def _prepare(zones, connection) -> str:
        return ",".join(zones) if connection.vendor == "postgresql" else json.dumps(list(zones))

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        slot = _Slot(self.param_name, self._prepare)
        if connection.vendor == "postgresql":
            return f"({sql} = ANY(string_to_array(%s, ',')))", (*params, slot)
        return f"({sql} IN (SELECT value FROM json_each(%s)))", (*params, slot)


@dataclass(frozen=True, slots=True)
class CallListLead:
    """The lead columns the call list reads (not a model instance: 50 of those per page
    cost more to build than the query takes)."""

    pk: int
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    score: float
    stage: str
    timezone: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class CallListAssignment:
    pk: int
    handed_off_at: datetime.datetime
    sla_due_at: datetime.datetime | None
    first_touch_at: datetime.datetime | None


@dataclass
class CallListRow:
    lead: CallListLead
    bucket: int
    outside_hours: bool
    assignment: CallListAssignment | None = None
    next_follow_up_at: datetime.datetime | None = None
    check_in_on: datetime.date | None = None
    last_touch_at: datetime.datetime | None = None
    attempts: int = 0
    source_campaign: str | None = None
    now: datetime.datetime | None = None
    reasons: list = field(default_factory=list)

    @property
    def bucket_label(self) -> str:
        return BUCKET_LABELS[self.bucket]

    @property
    def sla_due_at(self):
        if self.assignment is None or self.assignment.first_touch_at is not None:
            return None
        return self.assignment.sla_due_at

    @property
    def sla_seconds_left(self) -> int | None:
        due = self.sla_due_at
        if due is None or self.now is None:
            return None
        return int((due - self.now).total_seconds())

    @property
    def sla_text(self) -> str:
        seconds = self.sla_seconds_left
        if seconds is None:
            return ""
        text = duration_text(abs(seconds))
        return f"overdue {text}" if seconds < 0 else f"due in {text}"

    @property
    def local_time(self) -> str:
        try:
            zone = zoneinfo.ZoneInfo(self.lead.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return ""
        return (self.now or timezone.now()).astimezone(zone).strftime("%H:%M")

    def display(self, *, url_pattern: str) -> dict:
        """Everything a row of the page shows, as ready strings: the page renders 50 rows, and
        template filters and a URL reversal per row cost more than the queries do."""
        lead = self.lead
        now = self.now or timezone.now()
        sla_due = self.sla_due_at
        seconds = self.sla_seconds_left
        return {
            "lead_id": lead.pk,
            "url": url_pattern.format(lead.pk),
            "name": lead.full_name or lead.email,
            "company": lead.company or "—",
            "phone": lead.phone,
            "bucket": self.bucket,
            "bucket_label": self.bucket_label,
            "badge": {
                BUCKET_OVERDUE: "overdue",
                BUCKET_CALLBACK_OVERDUE: "overdue",
                BUCKET_DUE: "warn",
                BUCKET_CHECK_IN: "warn",
            }.get(self.bucket, ""),
            "outside_hours": self.outside_hours,
            "local_time": self.local_time if self.outside_hours else "",
            "reasons": [(r["label"], f"{r['points']:+.0f}") for r in self.reasons],
            "score": f"{lead.score:.0f}",
            "campaign": self.source_campaign or "—",
            "sla_due": sla_due.isoformat() if sla_due else "",
            "sla_text": self.sla_text,
            "sla_late": seconds is not None and seconds < 0,
            "callback": _callback_when(self.next_follow_up_at, now) if self.next_follow_up_at else "",
            "callback_late": f"overdue {duration_text(int((now - self.next_follow_up_at).total_seconds()))}"
            if self.bucket == BUCKET_CALLBACK_OVERDUE
            else "",
            "check_in": f"{self.check_in_on:%b} {self.check_in_on.day}" if self.check_in_on else "",
            "last_touch": f"{duration_text(max(0, int((now - self.last_touch_at).total_seconds())))} ago"
            if self.last_touch_at
            else "",
            "attempts": self.attempts,
        }

    @property
    def sort_key(self) -> tuple:
        if self.bucket == BUCKET_OVERDUE:
            at = self.sla_due_at
        elif self.bucket in (BUCKET_CALLBACK_OVERDUE, BUCKET_DUE):
            at = self.next_follow_up_at
        elif self.bucket == BUCKET_CHECK_IN and self.check_in_on:
            at = datetime.datetime.combine(self.check_in_on, datetime.time.min, tzinfo=datetime.UTC)
        else:
            at = None
        handed_off = self.assignment.handed_off_at.timestamp() if self.assignment else 0
        return (
            self.outside_hours,
            self.bucket,
            at is None,
            at.timestamp() if at else 0,
            -self.lead.score,
            -handed_off,
            -(self.assignment.pk if self.assignment else self.lead.pk),
        )


def _callback_when(at: datetime.datetime, now: datetime.datetime) -> str:
    """ "Tue 14:00" within the week around now; a date beyond it ("Nov 3 14:00"), so a
    callback missed last week never reads like one coming up."""
    local = timezone.localtime(at)
    if abs((at - now).total_seconds()) < 6 * 24 * 3600:
        return local.strftime("%a %H:%M")
    return f"{local:%b} {local.day} {local:%H:%M}"


def callback_overdue_before(now: datetime.datetime) -> datetime.datetime:
    """A callback still open this long after its time is overdue, not merely due."""
    return now - datetime.timedelta(minutes=settings.CALLBACK_OVERDUE_AFTER_MINUTES)


def duration_text(seconds: int) -> str:
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"


# The lead columns the call list shows; the wide ones (custom attributes ...) stay in the database.
CALL_LIST_LEAD_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "score",
    "score_breakdown",
    "timezone",
    "stage",
)


@contextmanager
def _without_parallel_workers():
    """On PostgreSQL, run the enclosed reads in a transaction planned without parallel workers.

    The call list reads a few thousand rows by index; starting parallel workers for the hash
    join costs more than it saves (measured: p50 about 10 ms slower with them on a busy
    machine). SET LOCAL scopes it to this transaction, so reports keep their workers.
    Elsewhere (SQLite, whose transactions here take the write lock up front) nothing changes.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


def _last_touch_and_campaign(lead_ref: OuterRef) -> dict:
    return {
        "last_touch_at": Subquery(
            Call.objects.filter(lead=lead_ref).order_by("-called_at").values("called_at")[:1],
            output_field=DateTimeField(),
        ),
        "source_campaign": Subquery(
            CampaignMember.objects.filter(lead=lead_ref).order_by("-added_at", "-id").values("campaign__name")[:1]
        ),
    }


def _ranked_assignment_ids(limit: int) -> QuerySet:
    """The ids of the rep's top ``limit`` open assignments in call-list order (the SQL half of
    the order; ``CallListRow.sort_key`` is the Python half, kept in agreement by
    tests/crm/test_call_list_order_agreement.py)."""
    rep, now = Param("rep", IntegerField()), Param("now", DateTimeField())
    late = Param("callback_late", DateTimeField())
    open_follow_ups = FollowUp.objects.filter(lead=OuterRef("lead_id"), rep_id=rep, done_at__isnull=True)
    follow_up_due = Q(
        lead_id__in=FollowUp.objects.filter(rep_id=rep, done_at__isnull=True, due_at__lte=now).values("lead_id")
    )
    follow_up_overdue = Q(
        lead_id__in=FollowUp.objects.filter(rep_id=rep, done_at__isnull=True, due_at__lt=late).values("lead_id")
    )
    sla_overdue = Q(first_touch_at__isnull=True, sla_due_at__lt=now)
    bucket = Case(
        When(sla_overdue, then=Value(BUCKET_OVERDUE)),
        When(follow_up_overdue, then=Value(BUCKET_CALLBACK_OVERDUE)),
        When(follow_up_due, then=Value(BUCKET_DUE)),
        When(first_touch_at__isnull=True, then=Value(BUCKET_NEW)),
        default=Value(BUCKET_LATER),
        output_field=IntegerField(),
    )
    outside_hours = TimezoneIn("lead__timezone", "outside")
    return (
        Assignment.objects.filter(rep_id=rep, status__in=OPEN_FOR_REP_STATUSES)
        .filter(lead__owner_id=rep, lead__do_not_call=False, lead__do_not_contact=False)
        .annotate(
            # One sort key for "outside calling hours, then bucket": an expression over both
            # tables, so PostgreSQL cannot pre-sort the lead table by time zone.
            rank=Case(When(outside_hours, then=Value(10)), default=Value(0), output_field=IntegerField()) + bucket,
            sort_at=Case(
                When(sla_overdue, then=F("sla_due_at")),
                # The overdue bucket is a subset of the due one: the same earliest open follow-up.
                When(follow_up_due, then=Subquery(open_follow_ups.order_by("due_at").values("due_at")[:1])),
                default=None,
                output_field=DateTimeField(),
            ),
        )
        .order_by("rank", F("sort_at").asc(nulls_last=True), "-lead__score", "-handed_off_at", "-id")
        .values("pk")[:limit]
    )


def _ranked_assignments(limit: int) -> QuerySet:
    """The rep's open assignments, ranked in SQL; only the top ``limit`` leave the database.

    The inner query ranks on narrow columns (index-only: ``assignment_rep_open_idx`` and
    ``lead_owner_callable_idx``) and returns ``limit`` ids; the outer one reads what is shown
    (last touch, attempts, source campaign) for those rows only. The inner query filters on
    both the assignment's rep and the lead's owner (the hand-off keeps the two in step), so
    PostgreSQL hash-joins the rep's assignments with the rep's leads instead of probing the
    lead table once per assignment. Due follow-ups are an uncorrelated IN: PostgreSQL runs
    it once (``follow_up_rep_due_idx``) and hashes it, where a correlated EXISTS would be
    probed once per assignment.
    """
    rep = Param("rep", IntegerField())
    open_follow_ups = FollowUp.objects.filter(lead=OuterRef("lead_id"), rep_id=rep, done_at__isnull=True)
    top_ids = _ranked_assignment_ids(limit)
    return (
        Assignment.objects.filter(pk__in=top_ids)
        .annotate(
            next_follow_up_at=Subquery(open_follow_ups.order_by("due_at").values("due_at")[:1]),
            attempts=Coalesce(
                Subquery(
                    Call.objects.filter(assignment=OuterRef("pk"))
                    .order_by()
                    .values("assignment")
                    .annotate(n=Count("id"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                0,
            ),
            **_last_touch_and_campaign(OuterRef("lead_id")),
        )
        .values(
            "id",
            "lead_id",
            "handed_off_at",
            "sla_due_at",
            "first_touch_at",
            *(f"lead__{name}" for name in CALL_LIST_LEAD_FIELDS),
            "next_follow_up_at",
            "attempts",
            "last_touch_at",
            "source_campaign",
        )
    )


def _check_ins_due(limit: int) -> QuerySet:
    """The rep's customers with a check-in due (by the account's date or a check-in
    follow-up), best first."""
    rep, now = Param("rep", IntegerField()), Param("now", DateTimeField())
    return (
        Lead.objects.filter(owner_id=rep, stage=LifecycleStage.CUSTOMER, do_not_call=False, do_not_contact=False)
        .annotate(
            # LIMIT 1 subqueries are probed per customer (a few hundred, by unique or FK
            # index); an EXISTS would be hashed over every customer's account instead.
            check_in_on=Subquery(
                Contact.objects.filter(lead=OuterRef("pk")).values("account__next_check_in_on")[:1],
                output_field=DateField(),
            ),
            check_in_follow_up_at=Subquery(
                FollowUp.objects.filter(
                    lead=OuterRef("pk"), rep_id=rep, done_at__isnull=True, kind=FollowUpKind.CHECK_IN, due_at__lte=now
                ).values("due_at")[:1],
                output_field=DateTimeField(),
            ),
        )
        .filter(Q(check_in_on__lte=Param("today", DateField())) | Q(check_in_follow_up_at__isnull=False))
        .annotate(outside_hours=TimezoneIn("timezone", "outside"), **_last_touch_and_campaign(OuterRef("pk")))
        .order_by("outside_hours", F("check_in_on").asc(nulls_last=True), "-score", "-id")
        .values("id", *CALL_LIST_LEAD_FIELDS, "check_in_on", "outside_hours", "last_touch_at", "source_campaign")[
            :limit
        ]
    )


def _bucket(row: dict, now: datetime.datetime) -> int:
    if row["first_touch_at"] is None and row["sla_due_at"] is not None and row["sla_due_at"] < now:
        return BUCKET_OVERDUE
    if row["next_follow_up_at"] is not None and row["next_follow_up_at"] < callback_overdue_before(now):
        return BUCKET_CALLBACK_OVERDUE
    if row["next_follow_up_at"] is not None and row["next_follow_up_at"] <= now:
        return BUCKET_DUE
    if row["first_touch_at"] is None:
        return BUCKET_NEW
    return BUCKET_LATER


def _call_list_lead(row: dict, pk: int, prefix: str = "") -> CallListLead:
    return CallListLead(
        pk=pk,
        first_name=row[f"{prefix}first_name"],
        last_name=row[f"{prefix}last_name"],
        email=row[f"{prefix}email"],
        phone=row[f"{prefix}phone"],
        company=row[f"{prefix}company"],
        score=row[f"{prefix}score"],
        stage=row[f"{prefix}stage"],
        timezone=row[f"{prefix}timezone"],
    )


def call_list_params(*, rep, now: datetime.datetime) -> dict:
    """The values the call-list statements run with, for this rep at this time."""
    return {
        "rep": rep.pk,
        "now": now,
        "today": timezone.localdate(now),
        "outside": timezones_outside_calling_hours(now),
        "callback_late": callback_overdue_before(now),
    }


def call_list_for_rep(
    *, rep, now: datetime.datetime | None = None, limit: int = 50, offset: int = 0
) -> list[CallListRow]:
    """The rep's next calls, best first. Two queries whatever the size of the book (three on
    PostgreSQL, which first turns parallel workers off for the transaction).

    Order: SLA overdue, then callbacks overdue (open more than
    ``CALLBACK_OVERDUE_AFTER_MINUTES`` past their time), then callbacks due, then new assignments by score (newest
    first among equals), then customer check-ins due, then work in progress; leads whose local
    time is outside calling hours come after all of those, marked. Do-not-call and
    do-not-contact leads never appear.

    Open assignments (:func:`_ranked_assignments`) and check-ins due (:func:`_check_ins_due`)
    are two ranked lists merged here. Both statements are compiled once per thread and
    ``limit`` and run with this rep, time and set of time zones outside calling hours.

    ``offset`` skips that many rows of the merged list (the page's "more"): each list's top
    ``offset + limit`` rows are read and merged, so a later page costs a little more than
    the first.
    """
    if limit < 1 or offset < 0:
        raise ValueError("limit must be positive and offset not negative")
    now = now or timezone.now()
    top = offset + limit
    values = call_list_params(rep=rep, now=now)
    assignments = compiled_query(("call_list_assignments", top), lambda: _ranked_assignments(top))
    customers = compiled_query(("call_list_check_ins", top), lambda: _check_ins_due(top))
    with _without_parallel_workers():
        assignment_rows = assignments.rows(**values)
        customer_rows = customers.rows(**values)

    # The top rows come back unordered; their bucket and order are worked out again here from
    # the same columns (CallListRow.sort_key mirrors the SQL ORDER BY).
    outside_set = frozenset(values["outside"])
    rows = [
        CallListRow(
            lead=_call_list_lead(row, row["lead_id"], prefix="lead__"),
            assignment=CallListAssignment(
                pk=row["id"],
                handed_off_at=row["handed_off_at"],
                sla_due_at=row["sla_due_at"],
                first_touch_at=row["first_touch_at"],
            ),
            bucket=_bucket(row, now),
            outside_hours=row["lead__timezone"] in outside_set,
            next_follow_up_at=row["next_follow_up_at"],
            last_touch_at=row["last_touch_at"],
            attempts=row["attempts"],
            source_campaign=row["source_campaign"],
            now=now,
            reasons=score_reasons(row["lead__score_breakdown"], limit=3),
        )
        for row in assignment_rows
    ]
    rows += [
        CallListRow(
            lead=_call_list_lead(row, row["id"]),
            bucket=BUCKET_CHECK_IN,
            outside_hours=bool(row["outside_hours"]),
            check_in_on=row["check_in_on"],
            last_touch_at=row["last_touch_at"],
            source_campaign=row["source_campaign"],
            now=now,
            reasons=score_reasons(row["score_breakdown"], limit=3),
        )
        for row in customer_rows
    ]
    rows.sort(key=lambda row: row.sort_key)
    return rows[offset:top]


# --- The lead page -------------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    at: datetime.datetime
    kind: str
    title: str
    detail: str = ""
    call: Call | None = None


def lead_page_data(*, lead: Lead, user) -> dict:
    """Everything the rep's lead page shows, in a fixed number of queries."""
    calls = list(
        Call.objects.filter(lead=lead)
        .select_related("rep")
        .prefetch_related(Prefetch("objections", queryset=ObjectionNote.objects.select_related("collateral")))
        .order_by("-called_at", "-id")[:50]
    )
    transitions = list(LeadTransition.objects.filter(lead=lead).select_related("actor").order_by("-at", "-id")[:50])
    events = list(lead.events.order_by("-occurred_at", "-id")[:50])
    memberships = list(
        CampaignMember.objects.filter(lead=lead).select_related("campaign").order_by("-added_at", "-id")[:20]
    )
    shares = list(
        CollateralShare.objects.filter(lead=lead).select_related("collateral", "shared_by").order_by("-shared_at")[:20]
    )
    follow_ups = list(FollowUp.objects.filter(lead=lead).open().order_by("due_at")[:10])
    assignment = Assignment.objects.active().filter(lead=lead).select_related("queue", "rep").first()
    deals = list(Deal.objects.filter(lead=lead).select_related("account").order_by("-created_at"))

    timeline: list[TimelineEntry] = []
    for call in calls:
        objections = ", ".join(o.get_category_display() for o in call.objections.all())
        timeline.append(
            TimelineEntry(
                at=call.called_at,
                kind="call",
                title=f"Call: {call.get_outcome_display()}",
                detail=f"Objections: {objections}" if objections else "",
                call=call,
            )
        )
    for event in events:
        timeline.append(TimelineEntry(at=event.occurred_at, kind="engagement", title=event.get_kind_display()))
    for member in memberships:
        timeline.append(
            TimelineEntry(
                at=member.responded_at or member.added_at,
                kind="campaign",
                title=f"Campaign: {member.campaign.name}",
                detail=member.get_status_display(),
            )
        )
    for transition in transitions:
        timeline.append(
            TimelineEntry(
                at=transition.at,
                kind="stage",
                title=f"{transition.get_from_stage_display()} → {transition.get_to_stage_display()}",
                detail=transition.reason,
            )
        )
    for share in shares:
        timeline.append(TimelineEntry(at=share.shared_at, kind="collateral", title=f"Shared: {share.collateral.title}"))
    timeline.sort(key=lambda entry: entry.at, reverse=True)

    objections = [o for call in calls for o in call.objections.all()]
    return {
        "calls": calls,
        "transitions": transitions,
        "memberships": memberships,
        "follow_ups": follow_ups,
        "assignment": assignment,
        "deals": deals,
        "timeline": timeline,
        "objections": objections,
        "reasons": score_reasons(lead.score_breakdown),
    }
