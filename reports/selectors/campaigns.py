"""Campaigns report: members, responses, MQLs, deals and won revenue per campaign, with cost per
MQL, cost per won deal and ROI under a selectable influence model.

Influence: the same rule as ``campaigns.api.campaign_influence`` (Salesforce-style campaign
influence): a won deal closed in the period is credited to the campaigns its lead joined before
the deal closed: all of it to the first such campaign ("first"), the last ("last"), or split
evenly among them ("even"). It is computed here in one SQL statement with window functions
over (deal, membership) pairs instead of calling ``campaign_influence``, which loads the deals
into Python and queries memberships per 500 leads: at report scale that would neither keep a
constant number of queries nor stay inside a second. A test checks both agree.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db import connection
from django.db.models import Count, Q

from campaigns.api import Campaign, CampaignKind, CampaignMember
from crm.api import Deal, DealStage
from leads.api import Lead, LeadTransition, LifecycleStage

from .base import (
    Column,
    DateRangeForm,
    ReportResult,
    Table,
    admin_changelist,
    lead_filter_q,
    ratio,
    segment_field,
    source_field,
)
from .charts import bar_chart

SLUG = "campaigns"
TITLE = "Campaigns"
DESCRIPTION = "Members, responses, MQLs, deals and won revenue per campaign; cost per MQL and per won deal, ROI; first, last or even influence."
EMPTY = (
    "No campaign activity in this period. When leads are added to campaigns, each campaign shows its members, "
    "responses, the MQLs and deals that followed, the revenue it influenced and its return on cost."
)
MODELS = [("even", "Even (split across campaigns)"), ("first", "First touch"), ("last", "Last touch")]


class FilterForm(DateRangeForm):
    model = forms.ChoiceField(choices=MODELS, required=False, label="Influence model")
    kind = forms.ChoiceField(choices=[("", "Any kind"), *CampaignKind.choices], required=False, label="Campaign kind")
    segment = segment_field()
    source = source_field()


def influence(*, model: str, start, end, lead_ids=None) -> dict[int, tuple[Decimal, float]]:
    """{campaign id: (credited won revenue, credited won deals)} for won deals closed in
    [start, end), optionally only of leads in ``lead_ids`` (a queryset of pks)."""
    deal_t = Deal._meta.db_table
    member_t = CampaignMember._meta.db_table
    where, params = "", []
    if lead_ids is not None:
        sub_sql, sub_params = lead_ids.query.sql_with_params()
        where, params = f" AND d.lead_id IN ({sub_sql})", list(sub_params)
    credit = {
        "first": "CASE WHEN rn_first = 1 THEN 1.0 ELSE 0.0 END",
        "last": "CASE WHEN rn_last = 1 THEN 1.0 ELSE 0.0 END",
        "even": "1.0 / n",
    }[model]
    sql = (
        f"SELECT campaign_id, SUM(amount * {credit}), SUM({credit}) FROM ("
        " SELECT m.campaign_id AS campaign_id, d.amount AS amount,"
        " ROW_NUMBER() OVER (PARTITION BY d.id ORDER BY m.added_at, m.id) AS rn_first,"
        " ROW_NUMBER() OVER (PARTITION BY d.id ORDER BY m.added_at DESC, m.id DESC) AS rn_last,"
        " COUNT(*) OVER (PARTITION BY d.id) AS n"
        f" FROM {deal_t} d JOIN {member_t} m ON m.lead_id = d.lead_id AND m.added_at < d.closed_at"
        f" WHERE d.stage = %s AND d.closed_at >= %s AND d.closed_at < %s{where}"
        ") s GROUP BY campaign_id"
    )
    with connection.cursor() as cursor:
        adapt = connection.ops.adapt_datetimefield_value
        cursor.execute(sql, [DealStage.WON, adapt(start), adapt(end), *params])
        return {row[0]: (Decimal(str(row[1] or 0)), float(row[2] or 0)) for row in cursor.fetchall()}


def _after_joining(start, end, *, kind=None, lead_ids=None) -> dict[str, dict[int, int]]:
    """{"mqls": {campaign: leads}, "deals": {campaign: deals}}: leads qualified (MQL) and deals
    created in the period whose lead had joined the campaign by then (of the given kind, of the
    given leads)."""
    transition_t, deal_t = LeadTransition._meta.db_table, Deal._meta.db_table
    member_t, campaign_t = CampaignMember._meta.db_table, Campaign._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    kind_join, kind_params = "", []
    if kind:
        kind_join, kind_params = f" JOIN {campaign_t} c ON c.id = m.campaign_id AND c.kind = %s", [kind]
    out = {}
    for key, sql, params in (
        (
            "mqls",
            f"SELECT m.campaign_id, COUNT(DISTINCT x.lead_id) FROM {transition_t} x"
            f" JOIN {member_t} m ON m.lead_id = x.lead_id AND m.added_at <= x.at{kind_join}"
            " WHERE x.to_stage = %s AND x.at >= %s AND x.at < %s",
            [*kind_params, LifecycleStage.MQL, adapt(start), adapt(end)],
        ),
        (
            "deals",
            f"SELECT m.campaign_id, COUNT(DISTINCT x.id) FROM {deal_t} x"
            f" JOIN {member_t} m ON m.lead_id = x.lead_id AND m.added_at <= x.created_at{kind_join}"
            " WHERE x.created_at >= %s AND x.created_at < %s",
            [*kind_params, adapt(start), adapt(end)],
        ),
    ):
        if lead_ids is not None:
            sub_sql, sub_params = lead_ids.query.sql_with_params()
            sql, params = f"{sql} AND x.lead_id IN ({sub_sql})", [*params, *sub_params]
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} GROUP BY m.campaign_id", params)
            out[key] = dict(cursor.fetchall())
    return out


def build(data) -> ReportResult:
    model = data.get("model") or "even"
    start, end = data["start"], data["end"]
    lead_q = lead_filter_q(data, "lead__")
    members = CampaignMember.objects.filter(
        (Q(added_at__gte=start, added_at__lt=end) | Q(responded_at__gte=start, responded_at__lt=end)) & lead_q
    )
    if data.get("kind"):
        members = members.filter(campaign__kind=data["kind"])
    per_campaign: dict[int, dict] = {}
    for r in (
        members.order_by()
        .values("campaign")
        .annotate(
            members=Count("id", filter=Q(added_at__gte=start, added_at__lt=end)),
            responses=Count("id", filter=Q(responded_at__gte=start, responded_at__lt=end)),
        )
    ):
        per_campaign.setdefault(r["campaign"], {}).update(r)
    lead_ids = None
    if data.get("segment") or data.get("source"):
        lead_ids = Lead.objects.filter(lead_filter_q(data)).values("pk")
    # MQLs and deals are driven from the (indexed, few) qualifications and deals of the period,
    # joined straight to the memberships their lead had by then (not through the lead table),
    # not probed once per member.
    for key, counted in _after_joining(start, end, kind=data.get("kind"), lead_ids=lead_ids).items():
        for campaign, n in counted.items():
            per_campaign.setdefault(campaign, {})[key] = n
    credited = influence(model=model, start=start, end=end, lead_ids=lead_ids)

    ids = {cid for cid, r in per_campaign.items() if any(r.get(k) for k in ("members", "responses", "mqls", "deals"))}
    ids |= set(credited)
    campaigns = Campaign.objects.filter(pk__in=ids)
    if data.get("kind"):
        campaigns = campaigns.filter(kind=data["kind"])
    rows, links = [], []
    for campaign in campaigns.order_by("name"):
        r = per_campaign.get(campaign.pk, {})
        revenue, won = credited.get(campaign.pk, (Decimal(0), 0.0))
        cost = campaign.actual_cost or Decimal(0)
        rows.append(
            {
                "campaign": campaign.name,
                "kind": campaign.get_kind_display(),
                "members": r.get("members", 0),
                "responses": r.get("responses", 0),
                "mqls": r.get("mqls", 0),
                "deals": r.get("deals", 0),
                "won": won,
                "revenue": revenue,
                "cost": cost,
                "cost_per_mql": ratio(cost, r.get("mqls", 0)),
                "cost_per_won": (cost / Decimal(str(won))) if won else None,
                "roi": ((revenue - cost) / cost) if cost else None,
            }
        )
        links.append(
            {
                "campaign": admin_changelist("campaigns.campaign", id=campaign.pk),
                "members": admin_changelist("campaigns.campaignmember", campaign__id__exact=campaign.pk),
                "responses": admin_changelist(
                    "campaigns.campaignmember", campaign__id__exact=campaign.pk, responded_at__isnull="False"
                ),
            }
        )
    table = Table(
        "campaigns",
        f"Per campaign ({dict(MODELS)[model].lower()})",
        [
            Column("campaign", "Campaign", "text"),
            Column("kind", "Kind", "text"),
            Column("members", "Members added"),
            Column("responses", "Responses"),
            Column("mqls", "MQLs"),
            Column("deals", "Deals"),
            Column("won", "Won deals (credited)", "float"),
            Column("revenue", "Won revenue (credited)", "money"),
            Column("cost", "Cost", "money"),
            Column("cost_per_mql", "Cost per MQL", "money"),
            Column("cost_per_won", "Cost per won deal", "money"),
            Column("roi", "ROI", "pct"),
        ],
        rows,
        links,
        note="MQLs and deals count members who qualified or got a deal after joining, within the period. "
        "Revenue is won deals closed in the period, credited by the influence model.",
    )
    charts = []
    if rows:
        charts.append(
            bar_chart(
                "Won revenue vs cost",
                [r["campaign"] for r in rows],
                [("Revenue", [float(r["revenue"]) for r in rows]), ("Cost", [float(r["cost"]) for r in rows])],
            )
        )
    return ReportResult([table], charts, is_empty=not rows)
