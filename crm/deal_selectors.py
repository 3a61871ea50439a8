"""Reads for the deal board, the manager's team board and the forecast, under the row rules
of ``crm.selectors`` (a rep sees their own deals; managers everything). A fixed number of
queries per page however many deals there are: the board loads its open deals once and sums
them in Python; the forecast is two aggregate queries.

Money is never summed across currencies: every total is a list of per-currency figures.

Forecast figures, per month (a won deal in the month it closed, an open deal in the month it is
expected to close; lost deals count nowhere):

- committed: won + open deals in a commit stage (``DealStageProbability.is_commit``)
- weighted:  won + each open deal's amount times its stage's probability
- best case: won + every open deal
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from config.roles import SALES_REP

from .models import (
    DEFAULT_COMMIT_STAGES,
    DEFAULT_STAGE_PROBABILITY,
    OPEN_DEAL_STAGES,
    Assignment,
    AssignmentStatus,
    Deal,
    DealStage,
    DealStageProbability,
    SalesQueue,
)
from .selectors import deal_visible_q

CLOSED_SHOWN = 20
FORECAST_MONTHS = 12
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class StageOdds:
    probability: int
    is_commit: bool


def stage_odds() -> dict[str, StageOdds]:
    """Each stage's probability and commit flag: the table's rows, the defaults for any missing."""
    odds = {
        stage: StageOdds(DEFAULT_STAGE_PROBABILITY[stage], stage in DEFAULT_COMMIT_STAGES) for stage in DealStage.values
    }
    for row in DealStageProbability.objects.all():
        odds[row.stage] = StageOdds(row.probability, row.is_commit)
    return odds


def weighted_amount(amount: Decimal, probability: int) -> Decimal:
    """Exact (no rounding until it is shown), so a sum of weighted amounts is the weighted sum."""
    return amount * probability / HUNDRED


def deals_filtered(*, user, rep_id: int | None = None, queue_id: int | None = None) -> QuerySet[Deal]:
    """The deals ``user`` may see, narrowed to one owner and/or one queue.

    A deal is in a queue when its lead was handed off through that queue and the rep accepted it
    there (the assignment the deal was converted from, accepted or since closed); a deal opened
    on an account without a lead is in no queue."""
    deals = Deal.objects.filter(deal_visible_q(user))
    if rep_id is not None:
        deals = deals.filter(owner_id=rep_id)
    if queue_id is not None:
        deals = deals.filter(
            Exists(
                Assignment.objects.filter(
                    lead_id=OuterRef("lead_id"),
                    queue_id=queue_id,
                    status__in=(AssignmentStatus.ACCEPTED, AssignmentStatus.CLOSED),
                )
            )
        )
    return deals


def _money_totals(rows: list[tuple[str, Decimal, Decimal]]) -> list[dict]:
    """[(currency, amount, weighted)] -> one total per currency, in currency order."""
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for currency, amount, weighted in rows:
        sums[currency][0] += amount
        sums[currency][1] += weighted
    return [{"currency": c, "amount": a, "weighted": w} for c, (a, w) in sorted(sums.items())]


@dataclass
class Board:
    columns: list[dict]
    totals: list[dict]
    closed: list[Deal]
    count: int = 0
    odds: dict[str, StageOdds] = field(default_factory=dict)


def deal_board(*, user, rep_id: int | None = None, queue_id: int | None = None) -> Board:
    """Open deals by stage in pipeline order (largest first), each stage's total and weighted
    total per currency, the whole pipeline's, and the last closed deals. Three queries."""
    odds = stage_odds()
    deals = deals_filtered(user=user, rep_id=rep_id, queue_id=queue_id).select_related("account", "owner")
    open_deals = list(deals.filter(stage__in=OPEN_DEAL_STAGES).order_by("-amount", "-id"))
    for deal in open_deals:
        deal.weighted = weighted_amount(deal.amount, odds[deal.stage].probability)
    columns = []
    for stage in OPEN_DEAL_STAGES:
        in_stage = [deal for deal in open_deals if deal.stage == stage]
        columns.append(
            {
                "stage": stage,
                "label": DealStage(stage).label,
                "probability": odds[stage].probability,
                "is_commit": odds[stage].is_commit,
                "deals": in_stage,
                "totals": _money_totals([(d.currency, d.amount, d.weighted) for d in in_stage]),
            }
        )
    closed = list(deals.filter(stage__in=(DealStage.WON, DealStage.LOST)).order_by("-closed_at", "-id")[:CLOSED_SHOWN])
    return Board(
        columns=columns,
        totals=_money_totals([(d.currency, d.amount, d.weighted) for d in open_deals]),
        closed=closed,
        count=len(open_deals),
        odds=odds,
    )


def team_filter_choices() -> tuple[list, list]:
    """(reps, queues) for the manager's filters: active reps by name, queues by priority."""
    reps = list(
        get_user_model()
        .objects.filter(groups__name=SALES_REP, is_active=True)
        .order_by("username")
        .only("id", "username", "first_name", "last_name")
    )
    queues = list(SalesQueue.objects.order_by("priority", "id").only("id", "name"))
    return reps, queues


# --- Forecast ---------------------------------------------------------------------------------


def month_add(month: datetime.date, months: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass
class ForecastBucket:
    key: str  # "YYYY-MM", "before", "later" or "undated"
    label: str
    month: datetime.date | None = None
    won: Decimal = Decimal(0)
    commit_open: Decimal = Decimal(0)
    weighted_open: Decimal = Decimal(0)
    open: Decimal = Decimal(0)
    won_count: int = 0
    open_count: int = 0

    @property
    def committed(self) -> Decimal:
        return self.won + self.commit_open

    @property
    def weighted(self) -> Decimal:
        return self.won + self.weighted_open

    @property
    def best_case(self) -> Decimal:
        return self.won + self.open


@dataclass
class Forecast:
    start: datetime.date
    currency: str
    currencies: list[str]
    buckets: list[ForecastBucket]
    odds: dict[str, StageOdds]

    @property
    def total(self) -> ForecastBucket:
        total = ForecastBucket(key="total", label="Total")
        for b in self.buckets:
            for name in ("won", "commit_open", "weighted_open", "open", "won_count", "open_count"):
                setattr(total, name, getattr(total, name) + getattr(b, name))
        return total


def deal_forecast(
    *,
    user,
    start: datetime.date,
    rep_id: int | None = None,
    queue_id: int | None = None,
    currency: str | None = None,
    months: int = FORECAST_MONTHS,
) -> Forecast:
    """The forecast for ``months`` months from ``start`` (a first of the month) in one currency
    (``currency``, else EUR if any deal uses it, else the first in alphabetical order).

    Open deals expected before ``start`` are one "before" bucket (overdue when ``start`` is this
    month), after the window one "later" bucket, without a date one "undated" bucket; won deals
    count only in the window's months. Three queries (probabilities, open, won)."""
    odds = stage_odds()
    end = month_add(start, months)
    deals = deals_filtered(user=user, rep_id=rep_id, queue_id=queue_id).order_by()
    open_rows = list(
        deals.filter(stage__in=OPEN_DEAL_STAGES)
        .annotate(month=TruncMonth("expected_close_on"))
        .values("month", "stage", "currency")
        .annotate(amount=Sum("amount"), count=Count("id"))
    )
    tz = timezone.get_current_timezone()
    window_start = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    window_end = datetime.datetime.combine(end, datetime.time.min, tzinfo=tz)
    won_rows = list(
        deals.filter(stage=DealStage.WON, closed_at__gte=window_start, closed_at__lt=window_end)
        .annotate(month=TruncMonth("closed_at", tzinfo=tz))
        .values("month", "currency")
        .annotate(amount=Sum("amount"), count=Count("id"))
    )
    currencies = sorted({r["currency"] for r in open_rows} | {r["currency"] for r in won_rows})
    if not currency:
        currency = "EUR" if "EUR" in currencies or not currencies else currencies[0]

    buckets: dict[str, ForecastBucket] = {
        "before": ForecastBucket(key="before", label=f"Before {start:%b %Y}"),
    }
    for i in range(months):
        month = month_add(start, i)
        buckets[f"{month:%Y-%m}"] = ForecastBucket(key=f"{month:%Y-%m}", label=f"{month:%b %Y}", month=month)
    buckets["later"] = ForecastBucket(key="later", label=f"From {end:%b %Y}")
    buckets["undated"] = ForecastBucket(key="undated", label="No expected close")

    for row in open_rows:
        if row["currency"] != currency:
            continue
        month = row["month"]
        if isinstance(month, datetime.datetime):
            month = month.date()
        if month is None:
            bucket = buckets["undated"]
        elif month < start:
            bucket = buckets["before"]
        elif month >= end:
            bucket = buckets["later"]
        else:
            bucket = buckets[f"{month:%Y-%m}"]
        amount = row["amount"] or Decimal(0)
        stage_odds_ = odds[row["stage"]]
        bucket.open += amount
        bucket.open_count += row["count"]
        bucket.weighted_open += weighted_amount(amount, stage_odds_.probability)
        if stage_odds_.is_commit:
            bucket.commit_open += amount
    for row in won_rows:
        if row["currency"] != currency:
            continue
        month = row["month"]
        if isinstance(month, datetime.datetime):
            month = timezone.localtime(month, tz).date() if timezone.is_aware(month) else month.date()
        bucket = buckets[f"{month:%Y-%m}"]
        bucket.won += row["amount"] or Decimal(0)
        bucket.won_count += row["count"]
    return Forecast(start=start, currency=currency, currencies=currencies, buckets=list(buckets.values()), odds=odds)
