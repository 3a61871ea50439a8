"""Collateral report: per item, how often reps shared it, how often it was viewed, the deals it
influenced and the win rate when it was used; items nobody shares any more are flagged stale.

A deal is influenced by an item when its lead was sent the item (in the period) before the deal
closed (as ``campaigns.api.collateral_deal_usage`` counts it: closed deals only); the win rate
when used is won / influenced.
"""

from __future__ import annotations

import datetime

from django import forms
from django.db.models import Count, F, Max, Q

from campaigns.api import Collateral, CollateralKind
from crm.api import Deal, DealStage

from .base import (
    Column,
    DateRangeForm,
    ReportResult,
    Table,
    admin_changelist,
    iso,
    lead_filter_q,
    ratio,
    segment_field,
    source_field,
)
from .charts import bar_chart

SLUG = "collateral"
TITLE = "Collateral"
DESCRIPTION = "Shares, views, deals influenced and win rate when used, per collateral item; stale items flagged."
EMPTY = (
    "The collateral library is empty. Once marketing adds items and reps share them with leads, this page "
    "shows each item's shares, views, the deals it influenced, the win rate when it was used, and stale items."
)
STALE_DAYS = 90


class FilterForm(DateRangeForm):
    kind = forms.ChoiceField(choices=[("", "Any kind"), *CollateralKind.choices], required=False, label="Kind")
    segment = segment_field()
    source = source_field()


def build(data) -> ReportResult:
    start, end = data["start"], data["end"]
    share_q = Q(shares__shared_at__gte=start, shares__shared_at__lt=end) & lead_filter_q(data, "shares__lead__")
    items = Collateral.objects.all()
    if data.get("kind"):
        items = items.filter(kind=data["kind"])
    stats = {
        r["pk"]: r
        for r in items.order_by()
        .values("pk")
        .annotate(
            n_shares=Count("shares", filter=share_q, distinct=True),
            n_views=Count(
                "shares__views",
                filter=share_q & Q(shares__views__viewed_at__gte=start, shares__views__viewed_at__lt=end),
                distinct=True,
            ),
            n_leads_viewing=Count("shares__lead", filter=share_q & Q(shares__views__isnull=False), distinct=True),
        )
    }
    last_shared = {r["pk"]: r["last"] for r in items.order_by().values("pk").annotate(last=Max("shares__shared_at"))}
    deal_q = (
        Q(lead__collateral_shares__shared_at__gte=start, lead__collateral_shares__shared_at__lt=end)
        & Q(closed_at__isnull=False, closed_at__gt=F("lead__collateral_shares__shared_at"))
        & lead_filter_q(data, "lead__")
    )
    deals = {
        r["item"]: r
        for r in Deal.objects.filter(deal_q)
        .annotate(item=F("lead__collateral_shares__collateral"))
        .order_by()
        .values("item")
        .annotate(
            deals=Count("id", distinct=True),
            won=Count("id", distinct=True, filter=Q(stage=DealStage.WON)),
            lost=Count("id", distinct=True, filter=Q(stage=DealStage.LOST)),
        )
    }
    stale_before = end - datetime.timedelta(days=STALE_DAYS)
    today = end.date() - datetime.timedelta(days=1)
    rows, links = [], []
    for item in items.order_by("title"):
        s = stats.get(item.pk, {})
        d = deals.get(item.pk, {})
        last = last_shared.get(item.pk)
        if item.is_archived:
            status = "archived"
        elif item.expires_on and item.expires_on < today:
            status = "expired"
        elif last is None or last < stale_before:
            status = f"stale (no share in {STALE_DAYS} days)"
        else:
            status = "current"
        rows.append(
            {
                "title": item.title,
                "kind": item.get_kind_display(),
                "shares": s.get("n_shares", 0),
                "views": s.get("n_views", 0),
                "leads_viewing": s.get("n_leads_viewing", 0),
                "deals": d.get("deals", 0),
                "won": d.get("won", 0),
                "win_rate": ratio(d.get("won", 0), d.get("won", 0) + d.get("lost", 0)),
                "last_shared": last,
                "status": status,
            }
        )
        links.append(
            {
                "title": admin_changelist("campaigns.collateral", id=item.pk),
                "shares": admin_changelist(
                    "campaigns.collateralshare", collateral=item.pk, shared_at__gte=iso(start), shared_at__lt=iso(end)
                ),
            }
        )
    table = Table(
        "collateral",
        "Per item",
        [
            Column("title", "Item", "text"),
            Column("kind", "Kind", "text"),
            Column("shares", "Shares"),
            Column("views", "Views"),
            Column("leads_viewing", "Leads who viewed"),
            Column("deals", "Deals influenced"),
            Column("won", "Won"),
            Column("win_rate", "Win rate when used", "pct"),
            Column("last_shared", "Last shared", "text"),
            Column("status", "Status", "text"),
        ],
        rows,
        links,
    )
    used = [r for r in rows if r["shares"]]
    charts = []
    if used:
        used = sorted(used, key=lambda r: -r["shares"])[:12]
        charts.append(
            bar_chart(
                "Shares and views (top 12)",
                [r["title"] for r in used],
                [("Shares", [r["shares"] for r in used]), ("Views", [r["views"] for r in used])],
            )
        )
    return ReportResult([table], charts, is_empty=not rows)
