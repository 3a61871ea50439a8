"""Scoring calibration: do higher scores win more? Leads handed off in the period are ranked by
score into ten equal deciles (NTILE in SQL, decile 1 = highest scores); per decile: acceptance
rate, win rate and lift (the decile's win rate over the overall win rate).

The score is the lead's current score, which is what marketing tunes; a lead rejected since may
have lost points to the rejection penalty.
"""

from __future__ import annotations

from django.db import connection

from leads.api import Lead, LeadOutcome, LeadTransition, LifecycleStage

from .base import (
    Column,
    DateRangeForm,
    ReportResult,
    Table,
    admin_changelist,
    campaign_field,
    lead_filter_q,
    ratio,
    segment_field,
    source_field,
)
from .charts import bar_chart, line_chart

SLUG = "calibration"
TITLE = "Scoring calibration"
DESCRIPTION = "Acceptance and win rate by score decile of the leads handed off in the period (a lift table)."
EMPTY = (
    "No leads were handed off in this period. Once leads are handed to sales and accepted, rejected, won or "
    "lost, this lift table shows whether leads with higher scores are accepted and won more often."
)


class FilterForm(DateRangeForm):
    segment = segment_field()
    campaign = campaign_field()
    source = source_field()


def build(data) -> ReportResult:
    start, end = data["start"], data["end"]
    transitions = LeadTransition._meta.db_table
    leads = Lead._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    params: list = [LifecycleStage.HANDED_OFF, adapt(start), adapt(end)]
    lead_filter = ""
    if data.get("segment") or data.get("campaign") or data.get("source"):
        sub_sql, sub_params = Lead.objects.filter(lead_filter_q(data)).values("pk").query.sql_with_params()
        lead_filter = f" AND l.id IN ({sub_sql})"
        params_filter = list(sub_params)
    else:
        params_filter = []
    # One pass over the period's hand-off and outcome transitions (an index range on
    # (to_stage, at)), aggregated per lead and kept for the leads handed off in the period;
    # materialised once (not rebuilt in every parallel worker), then the scores merged in from
    # the (id) INCLUDE (score) index in id order. Then deciles.
    outcome = "t.to_stage IN (%s, %s, %s)"
    outcome_params = [LifecycleStage.SAL, LifecycleStage.RECYCLED, LifecycleStage.CUSTOMER]
    sql = f"""
        WITH o AS MATERIALIZED (
            SELECT t.lead_id,
                   MAX(CASE WHEN t.to_stage = %s AND t.at >= %s AND t.at < %s THEN 1 ELSE 0 END) AS handed_off,
                   MAX(CASE WHEN t.to_stage = %s THEN 1 ELSE 0 END) AS acc,
                   MAX(CASE WHEN {outcome} AND t.outcome = %s THEN 1 ELSE 0 END) AS rej,
                   MAX(CASE WHEN {outcome} AND t.outcome = %s THEN 1 ELSE 0 END) AS won,
                   MAX(CASE WHEN {outcome} AND t.outcome = %s THEN 1 ELSE 0 END) AS lost
            FROM {transitions} t
            WHERE t.to_stage IN (%s, %s, %s, %s) AND t.at >= %s
            GROUP BY t.lead_id
        )
        SELECT d.decile, COUNT(*), MIN(d.score), MAX(d.score), SUM(d.acc), SUM(d.rej), SUM(d.won), SUM(d.lost)
        FROM (
            SELECT l.score AS score, o.acc, o.rej, o.won, o.lost,
                   NTILE(10) OVER (ORDER BY l.score DESC, l.id) AS decile
            FROM o JOIN {leads} l ON l.id = o.lead_id
            WHERE o.handed_off = 1{lead_filter}
        ) d
        GROUP BY d.decile ORDER BY d.decile
    """
    params = [
        *params,
        LifecycleStage.SAL,
        *outcome_params,
        LeadOutcome.REJECTED,
        *outcome_params,
        LeadOutcome.WON,
        *outcome_params,
        LeadOutcome.LOST,
        LifecycleStage.HANDED_OFF,
        *outcome_params,
        adapt(start),
        *params_filter,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    total_won = sum(r[6] for r in fetched)
    total_closed = sum(r[6] + r[7] for r in fetched)
    overall = ratio(total_won, total_closed)
    rows, links = [], []
    for decile, n, lo, hi, acc, rej, won, lost in fetched:
        # the decile's score range on the lead changelist (leads outside the population share
        # those scores too, so the list can be longer than the count)
        links.append({"score_range": admin_changelist("leads.lead", score__gte=lo, score__lte=hi)})
        win_rate = ratio(won, won + lost)
        rows.append(
            {
                "decile": str(decile),
                "score_range": f"{lo:g} – {hi:g}",
                "leads": n,
                "accepted": acc,
                "rejected": rej,
                "acceptance_rate": ratio(acc, acc + rej),
                "won": won,
                "lost": lost,
                "win_rate": win_rate,
                "lift": (win_rate / overall) if (win_rate is not None and overall) else None,
            }
        )
    table = Table(
        "deciles",
        "Lift table (decile 1 = highest scores)",
        [
            Column("decile", "Decile", "text"),
            Column("score_range", "Score range", "text"),
            Column("leads", "Leads handed off"),
            Column("accepted", "Accepted"),
            Column("rejected", "Rejected"),
            Column("acceptance_rate", "Acceptance rate", "pct"),
            Column("won", "Won"),
            Column("lost", "Lost"),
            Column("win_rate", "Win rate", "pct"),
            Column("lift", "Lift", "float"),
        ],
        rows,
        links,
        note="Acceptance rate = accepted / (accepted + rejected); win rate = won / (won + lost); "
        "lift = the decile's win rate / the overall win rate.",
    )
    labels = [f"D{r['decile']}" for r in rows]
    charts = []
    if rows:
        charts = [
            bar_chart(
                "Acceptance and win rate by decile",
                labels,
                [
                    ("Acceptance", [r["acceptance_rate"] or 0 for r in rows]),
                    ("Win rate", [r["win_rate"] or 0 for r in rows]),
                ],
                percent=True,
            ),
            line_chart("Lift by decile", labels, [("Lift", [r["lift"] for r in rows])]),
        ]
    return ReportResult([table], charts, is_empty=not rows)
