"""Campaign influence on deals, and collateral usage against deal outcomes.

Deals live in ``crm``, which ``campaigns`` may not import, so both services take the deals
as plain values. Each deal is either a tuple ``(deal_id, lead_id, closed_at, amount)`` with an
optional fifth item ``won`` (True won, False lost, None open), or a mapping with the keys
``deal_id`` (or ``id``), ``lead_id``, ``closed_at``, ``amount`` and optionally ``won`` (or
``stage`` = "won"/"lost"). ``crm`` passes e.g.
``Deal.objects.filter(...).values_list("id", "lead_id", "closed_at", "amount")``.

Influence follows Salesforce's Customizable Campaign Influence: a campaign touched a deal when
the deal's lead became a member of it before the deal closed (an open deal: before ``now``).
- ``first``: the earliest touch gets all the credit;
- ``last``: the latest touch before the close gets all of it;
- ``even``: every touch gets an equal share (weights sum to 1, amounts to the deal amount).
A deal with no touches (no lead, or no membership before the close) gets an empty list in
``by_deal`` and is listed in ``untouched_deal_ids``; it credits no campaign.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import CampaignMember, CollateralShare

INFLUENCE_MODELS = ("first", "last", "even")
_CHUNK = 500
CENT = Decimal("0.01")


@dataclass(frozen=True)
class DealInput:
    deal_id: object
    lead_id: int | None
    closed_at: datetime.datetime | None
    amount: Decimal = Decimal("0")
    won: bool | None = None


def deal_inputs(deals: Iterable) -> list[DealInput]:
    """Normalise the plain deal values described in the module docstring."""
    result = []
    for index, deal in enumerate(deals):
        if isinstance(deal, DealInput):
            result.append(deal)
            continue
        if isinstance(deal, Mapping):
            deal_id = deal.get("deal_id", deal.get("id"))
            lead_id, closed_at, amount = deal.get("lead_id"), deal.get("closed_at"), deal.get("amount")
            won = deal.get("won")
            if won is None and deal.get("stage") in ("won", "lost"):
                won = deal["stage"] == "won"
        elif isinstance(deal, (tuple, list)) and len(deal) in (4, 5):
            deal_id, lead_id, closed_at, amount = deal[:4]
            won = deal[4] if len(deal) == 5 else None
        else:
            raise ValidationError({f"deals.{index}": "Give (deal_id, lead_id, closed_at, amount[, won]) or a mapping."})
        if closed_at is not None and not isinstance(closed_at, datetime.datetime):
            raise ValidationError({f"deals.{index}.closed_at": "Give a date and time, or None for an open deal."})
        try:
            amount = Decimal(str(amount if amount is not None else 0))
        except ArithmeticError:
            raise ValidationError({f"deals.{index}.amount": "Give an amount."}) from None
        result.append(DealInput(deal_id, lead_id, closed_at, amount, won))
    return result


@dataclass(frozen=True)
class InfluenceCredit:
    deal_id: object
    campaign_id: int
    touched_at: datetime.datetime
    weight: float
    amount: Decimal


@dataclass
class CampaignInfluence:
    campaign_id: int
    deals: int = 0  # deals this campaign touched and got credit for
    weight: float = 0.0  # sum of credit weights (deals influenced, fractional under "even")
    amount: Decimal = Decimal("0")  # influenced revenue


@dataclass
class InfluenceResult:
    model: str
    by_deal: dict = field(default_factory=dict)  # deal_id -> [InfluenceCredit], [] when untouched
    by_campaign: dict = field(default_factory=dict)  # campaign_id -> CampaignInfluence
    untouched_deal_ids: list = field(default_factory=list)


def _chunks(values: list, size: int = _CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _memberships_by_lead(lead_ids: list[int], campaign_ids=None) -> dict[int, list[tuple]]:
    touches: dict[int, list[tuple]] = defaultdict(list)
    for chunk in _chunks(lead_ids):
        qs = CampaignMember.objects.filter(lead_id__in=chunk)
        if campaign_ids is not None:
            qs = qs.filter(campaign_id__in=list(campaign_ids))
        for lead_id, campaign_id, added_at, pk in qs.order_by().values_list("lead_id", "campaign_id", "added_at", "pk"):
            touches[lead_id].append((added_at, pk, campaign_id))
    for rows in touches.values():
        rows.sort()
    return touches


def campaign_influence(*, model: str, deals: Iterable, campaign_ids: Iterable[int] | None = None, now=None):
    """Credit campaigns with the deals they touched; see the module docstring for the input
    shape and the models. Reads only: one query per 500 distinct leads. Returns an
    ``InfluenceResult``; an unknown ``model`` is a ValidationError naming ``model``."""
    if model not in INFLUENCE_MODELS:
        raise ValidationError({"model": f"'{model}' is not an influence model; use first, last or even."})
    now = now or timezone.now()
    inputs = deal_inputs(deals)
    lead_ids = sorted({d.lead_id for d in inputs if d.lead_id is not None})
    touches = _memberships_by_lead(lead_ids, campaign_ids)
    result = InfluenceResult(model=model)
    for deal in inputs:
        cutoff = deal.closed_at or now
        before = [t for t in touches.get(deal.lead_id, ()) if t[0] < cutoff]
        # One credit per campaign: a campaign touches a deal once, at its first membership.
        seen, distinct = set(), []
        for touch in before:
            if touch[2] not in seen:
                seen.add(touch[2])
                distinct.append(touch)
        if not distinct:
            result.by_deal[deal.deal_id] = []
            result.untouched_deal_ids.append(deal.deal_id)
            continue
        if model == "first":
            credited = [(distinct[0], 1.0, deal.amount)]
        elif model == "last":
            credited = [(distinct[-1], 1.0, deal.amount)]
        else:
            n = len(distinct)
            share = (deal.amount / n).quantize(CENT)
            # The rounding remainder goes to the first touch so the credits add up exactly.
            amounts = [deal.amount - share * (n - 1)] + [share] * (n - 1)
            credited = [(touch, 1.0 / n, amount) for touch, amount in zip(distinct, amounts, strict=True)]
        credits = []
        for (touched_at, _pk, campaign_id), weight, amount in credited:
            credits.append(InfluenceCredit(deal.deal_id, campaign_id, touched_at, weight, amount))
            total = result.by_campaign.setdefault(campaign_id, CampaignInfluence(campaign_id))
            total.deals += 1
            total.weight += weight
            total.amount += amount
        result.by_deal[deal.deal_id] = credits
    return result


# --- Collateral usage against deals ------------------------------------------------------------


@dataclass
class CollateralDealUsage:
    collateral_id: int
    deals_influenced: int = 0  # closed deals whose lead got the item before the close
    won: int = 0
    lost: int = 0
    win_rate_used: float | None = None  # won / influenced
    win_rate_not_used: float | None = None  # among closed deals where the item was not shared


def collateral_deal_usage(*, deals: Iterable, collateral_ids: Iterable[int] | None = None) -> dict:
    """For each item: the closed deals (``won`` True/False; open deals are ignored) whose lead
    was sent the item before the deal closed, how many were won and lost, and the win rate
    with the item against the win rate of the other closed deals. Returns
    ``{collateral_id: CollateralDealUsage}`` with an entry for every id asked for (zeros
    when unused). One query per 500 distinct leads."""
    closed = [d for d in deal_inputs(deals) if d.won is not None and d.closed_at is not None]
    wanted = None if collateral_ids is None else set(collateral_ids)
    lead_ids = sorted({d.lead_id for d in closed if d.lead_id is not None})
    shares: dict[int, list[tuple]] = defaultdict(list)
    for chunk in _chunks(lead_ids):
        qs = CollateralShare.objects.filter(lead_id__in=chunk)
        if wanted is not None:
            qs = qs.filter(collateral_id__in=list(wanted))
        for lead_id, collateral_id, shared_at in qs.order_by().values_list("lead_id", "collateral_id", "shared_at"):
            shares[lead_id].append((collateral_id, shared_at))
    usage = {cid: CollateralDealUsage(cid) for cid in (wanted or ())}
    total_won = sum(1 for d in closed if d.won)
    for deal in closed:
        used = {cid for cid, at in shares.get(deal.lead_id, ()) if at < deal.closed_at}
        for cid in used:
            entry = usage.setdefault(cid, CollateralDealUsage(cid))
            entry.deals_influenced += 1
            if deal.won:
                entry.won += 1
            else:
                entry.lost += 1
    for entry in usage.values():
        if entry.deals_influenced:
            entry.win_rate_used = entry.won / entry.deals_influenced
        others = len(closed) - entry.deals_influenced
        if others:
            entry.win_rate_not_used = (total_won - entry.won) / others
    return usage
