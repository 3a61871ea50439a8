"""`python manage.py bench reports --leads 1000000` (PostgreSQL).

Builds (once; later runs reuse it) a demo history at scale, set-based: ``--leads`` generated
leads (COPY), a tenth of them qualified and handed off (100,000 assignments at 1M leads) with
their lifecycle transitions, three calls per hand-off (300,000), objections, deals, campaign
memberships, collateral shares and views, and customer feedback. Then it renders every report
page (the real admin view with its template, default range: the last 12 weeks) as a manager,
``--runs`` times each after a warm-up, and prints p50/p95 and the query count per page. The
baseline, measured in the same run, is the admin's assignment changelist (a page managers
already use). The last line is one JSON object.
"""

from __future__ import annotations

import os
import statistics
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from campaigns.models import Campaign, CampaignKind, Collateral, CollateralKind
from config.roles import SALES_MANAGER, SALES_REP
from crm.models import Assignment, SalesQueue
from devtools.demo.leads import INDUSTRIES, generate_leads
from leads.models import Lead, Segment

EMAIL_PREFIX = "reports"
PREFIX = "bench-reports-"
GOAL_P95_MS = 1000.0
N_REPS, N_QUEUES, N_CAMPAIGNS, N_ITEMS, N_ACCOUNTS = 50, 4, 10, 20, 200


def add_arguments(parser):
    parser.add_argument("--leads", type=int, default=1_000_000, help="Generated leads in the database.")
    parser.add_argument("--runs", type=int, default=20, help="Timed renders per page (after warm-up).")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def _users():
    User = get_user_model()
    reps_group, _ = Group.objects.get_or_create(name=SALES_REP)
    managers, _ = Group.objects.get_or_create(name=SALES_MANAGER)
    names = [f"{PREFIX}rep-{i:02d}" for i in range(N_REPS)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    missing = [User(username=name) for name in names if name not in existing]
    for user in missing:
        user.set_unusable_password()
    User.objects.bulk_create(missing)
    reps = list(User.objects.filter(username__in=names).order_by("username"))
    reps_group.user_set.add(*reps)
    manager, created = User.objects.get_or_create(username=f"{PREFIX}manager", defaults={"is_staff": True})
    if created:
        manager.set_unusable_password()
        manager.save()
    managers.user_set.add(manager)
    return reps, manager


def _build(options, out) -> None:
    n_leads = options["leads"]
    have = Lead.objects.filter(email__startswith=EMAIL_PREFIX).count()
    if have < n_leads:
        started = time.perf_counter()
        generate_leads(n_leads - have, seed=options["seed"], start=have, email_prefix=EMAIL_PREFIX)
        out.write(f"generated {n_leads - have} leads in {time.perf_counter() - started:.1f} s")
    reps, _manager = _users()
    queues = [
        SalesQueue.objects.get_or_create(name=f"Bench reports: queue {i}", defaults={"priority": 20_000 + i})[0]
        for i in range(N_QUEUES)
    ]
    if Assignment.objects.filter(queue=queues[0]).exists():
        out.write("reusing the history built by an earlier run")
        return
    campaigns = [
        Campaign.objects.get_or_create(
            name=f"Bench reports: campaign {i}",
            defaults={"kind": CampaignKind.values[i % len(CampaignKind.values)], "actual_cost": 5_000 + 1_000 * i},
        )[0]
        for i in range(N_CAMPAIGNS)
    ]
    items = [
        Collateral.objects.get_or_create(
            title=f"Bench reports: item {i}", defaults={"kind": CollateralKind.values[i % len(CollateralKind.values)]}
        )[0]
        for i in range(N_ITEMS)
    ]
    for industry in INDUSTRIES[:6]:
        Segment.objects.get_or_create(
            name=f"Bench reports: {industry}",
            defaults={"definition": {"all": [{"field": "industry", "op": "eq", "value": industry}]}},
        )
    started = time.perf_counter()
    params = {
        "prefix": f"{EMAIL_PREFIX}%",
        "now": timezone.now(),
        "reps": [r.pk for r in reps],
        "nreps": len(reps),
        "queues": [q.pk for q in queues],
        "nqueues": len(queues),
        "campaigns": [c.pk for c in campaigns],
        "ncampaigns": len(campaigns),
        "items": [i.pk for i in items],
        "nitems": len(items),
    }
    statements = [
        # every generated lead, numbered; a tenth of them (n % 10 = 0) qualified and handed off
        """CREATE TEMP TABLE bench_r ON COMMIT DROP AS
           SELECT id AS lead_id, created_at, row_number() OVER (ORDER BY id) - 1 AS n
           FROM leads_lead WHERE email LIKE %(prefix)s""",
        """CREATE TEMP TABLE bench_a ON COMMIT DROP AS
           SELECT lead_id, n / 10 AS k,
                  LEAST(created_at + ((n / 10) %% 72 + 1) * interval '1 hour', %(now)s - interval '8 days') AS q,
                  CASE WHEN (n / 10) %% 10 < 7 THEN 'accepted' WHEN (n / 10) %% 10 < 9 THEN 'rejected'
                       ELSE 'assigned' END AS outcome,
                  (%(reps)s::bigint[])[1 + (n / 10) %% %(nreps)s] AS rep_id,
                  (%(queues)s::bigint[])[1 + (n / 10) %% %(nqueues)s] AS queue_id
           FROM bench_r WHERE n %% 10 = 0""",
        "CREATE INDEX ON bench_a (lead_id)",
        "ANALYZE bench_a",
        # lifecycle history
        """INSERT INTO leads_leadtransition (lead_id, from_stage, to_stage, reason, outcome, outcome_reason, note, at)
           SELECT lead_id, 'new', 'engaged', '', '', '', '', created_at + interval '1 hour'
           FROM bench_r WHERE n %% 3 = 1 AND created_at + interval '1 hour' < %(now)s
           UNION ALL SELECT lead_id, 'new', 'engaged', '', '', '', '', q - interval '1 day' FROM bench_a
           UNION ALL SELECT lead_id, 'engaged', 'mql', '', '', '', '', q FROM bench_a
           UNION ALL SELECT lead_id, 'mql', 'handed_off', 'handed_off', '', '', '', q + interval '1 minute' FROM bench_a
           UNION ALL SELECT lead_id, 'handed_off', 'sal', 'accepted', 'accepted', '', '', q + (2 + k %% 5) * interval '1 hour'
                     FROM bench_a WHERE outcome = 'accepted'
           UNION ALL SELECT lead_id, 'handed_off', 'recycled', 'rejected:not_a_fit', 'rejected', 'not_a_fit', '', q + interval '3 hours'
                     FROM bench_a WHERE outcome = 'rejected'
           UNION ALL SELECT lead_id, 'sal', 'opportunity', '', '', '', '', q + interval '1 day'
                     FROM bench_a WHERE k %% 10 IN (0, 1, 5, 6)
           UNION ALL SELECT lead_id, 'opportunity', 'customer', 'won', 'won', '', '', q + interval '5 days'
                     FROM bench_a WHERE k %% 10 IN (0, 6)
           UNION ALL SELECT lead_id, 'opportunity', 'recycled', 'lost:price', 'lost', 'price', '', q + interval '5 days'
                     FROM bench_a WHERE k %% 10 IN (1, 5)""",
        """UPDATE leads_lead l SET
             stage = CASE WHEN a.k %% 10 IN (0, 6) THEN 'customer' WHEN a.k %% 10 IN (1, 5) THEN 'recycled'
                          WHEN a.outcome = 'rejected' THEN 'recycled' WHEN a.outcome = 'accepted' THEN 'sal'
                          ELSE 'handed_off' END,
             qualified_at = a.q, owner_id = a.rep_id, score = (a.k * 37) %% 100
           FROM bench_a a WHERE l.id = a.lead_id""",
        # hand-offs
        """INSERT INTO crm_assignment (lead_id, queue_id, rep_id, status, handed_off_at, assigned_at, sla_due_at,
                                       accepted_at, first_touch_at, rejected_at, rejected_reason, rejected_note,
                                       sla_breached_at)
           SELECT lead_id, queue_id, rep_id, outcome, q + interval '1 minute', q + interval '1 minute',
                  q + interval '61 minutes',
                  CASE WHEN outcome = 'accepted' THEN q + (2 + k %% 5) * interval '1 hour' END,
                  q + (1 + k %% 8) * interval '15 minutes',
                  CASE WHEN outcome = 'rejected' THEN q + interval '3 hours' END,
                  CASE WHEN outcome = 'rejected' THEN 'not_a_fit' ELSE '' END, '',
                  CASE WHEN k %% 10 = 3 THEN q + interval '61 minutes' END
           FROM bench_a""",
        # three calls per hand-off
        """INSERT INTO crm_call (rep_id, lead_id, assignment_id, outcome, duration_seconds, notes, called_at, created_at)
           SELECT a.rep_id, a.lead_id, a.id,
                  (ARRAY['no_answer','connected','left_voicemail','meeting_booked','not_interested',
                         'callback_requested','connected'])[1 + (a.id + j) %% 7],
                  60 * j, '', a.first_touch_at + (j - 1) * interval '1 day', a.first_touch_at
           FROM crm_assignment a JOIN bench_a b ON b.lead_id = a.lead_id CROSS JOIN generate_series(1, 3) j""",
        # an objection on the first call of every other hand-off
        """INSERT INTO crm_objectionnote (call_id, lead_id, category, said, response, overcome, collateral_id,
                                          created_at)
           SELECT c.id, c.lead_id,
                  (ARRAY['price','timing','competitor','authority','need','trust','product_fit','other'])
                      [1 + c.lead_id %% 8],
                  'Bench objection', 'Bench answer', c.lead_id %% 3 <> 0,
                  CASE WHEN c.lead_id %% 3 = 1 THEN (%(items)s::bigint[])[1 + c.lead_id %% %(nitems)s] END,
                  c.called_at
           FROM crm_call c JOIN bench_a b ON b.lead_id = c.lead_id
           WHERE c.duration_seconds = 60 AND b.k %% 2 = 0""",
        """INSERT INTO crm_account (name, domain, industry, country, is_customer, created_at)
           SELECT 'Bench reports account ' || g, '', 'software', 'DE', false, %(now)s
           FROM generate_series(1, """
        + str(N_ACCOUNTS)
        + ")  g",
        """INSERT INTO crm_deal (name, account_id, lead_id, owner_id, stage, amount, currency, closed_at, lost_reason,
                                 lost_note, created_at, updated_at)
           SELECT 'Bench deal ' || b.lead_id,
                  (SELECT min(id) FROM crm_account WHERE name LIKE 'Bench reports account %%') + b.k %% """
        + str(N_ACCOUNTS)
        + """,
                  b.lead_id, b.rep_id,
                  CASE WHEN b.k %% 10 IN (0, 6) THEN 'won' ELSE 'lost' END,
                  1000 + (b.k %% 50) * 200, 'EUR', b.q + interval '5 days',
                  CASE WHEN b.k %% 10 IN (0, 6) THEN '' ELSE 'price' END, '', b.q + interval '1 day', %(now)s
           FROM bench_a b WHERE b.k %% 10 IN (0, 1, 5, 6)""",
        # campaign memberships: every fifth lead, joined when created
        """INSERT INTO campaigns_campaignmember (campaign_id, lead_id, status, added_at, responded_at)
           SELECT (%(campaigns)s::bigint[])[1 + (n / 5) %% %(ncampaigns)s], lead_id,
                  CASE WHEN n %% 3 = 0 THEN 'responded' ELSE 'sent' END, created_at,
                  CASE WHEN n %% 3 = 0 THEN created_at + interval '1 day' END
           FROM bench_r WHERE n %% 5 = 0""",
        # collateral shared on every other hand-off, viewed on half of those (twice)
        """INSERT INTO campaigns_collateralshare (collateral_id, lead_id, shared_by_id, token, shared_at)
           SELECT (%(items)s::bigint[])[1 + k %% %(nitems)s], lead_id, rep_id, 'bench-reports-' || lead_id,
                  q + interval '2 hours'
           FROM bench_a WHERE k %% 2 = 1""",
        """INSERT INTO campaigns_collateralview (share_id, viewed_at, user_agent)
           SELECT s.id, s.shared_at + j * interval '1 hour', 'bench'
           FROM campaigns_collateralshare s CROSS JOIN generate_series(1, 2) j
           WHERE s.token LIKE 'bench-reports-%%' AND s.lead_id %% 4 = 1""",
        # feedback from customers and a sample of others
        """INSERT INTO campaigns_customerfeedback (lead_id, campaign_id, rating, comment, source, created_at)
           SELECT lead_id, (%(campaigns)s::bigint[])[1 + k %% %(ncampaigns)s], (k * 7) %% 11, '', 'survey',
                  LEAST(q + interval '6 days', %(now)s)
           FROM bench_a WHERE k %% 10 IN (0, 2, 6)""",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
    out.write(f"built the report history in {time.perf_counter() - started:.1f} s")


def _vacuum(out) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (
            "leads_lead",
            "leads_leadtransition",
            "crm_assignment",
            "crm_call",
            "crm_objectionnote",
            "crm_deal",
            "campaigns_campaignmember",
            "campaigns_collateralshare",
            "campaigns_collateralview",
            "campaigns_customerfeedback",
        ):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    out.write(f"vacuumed and analysed the tables in {time.perf_counter() - started:.1f} s")


def _measure(render, runs: int, warmup: int) -> dict:
    for _ in range(warmup):
        render()
    samples, queries = [], None
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = render()
            samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise CommandError(f"page answered {response.status_code}")
        queries = len(captured.captured_queries)
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(_percentile(samples, 95), 1),
        "queries": queries,
    }


def run(options, out) -> dict:
    if connection.vendor != "postgresql":
        raise CommandError("bench reports needs PostgreSQL (set DATABASE_URL=postgres://...).")
    from django.contrib import admin

    from reports.admin_site import report_view
    from reports.selectors import REPORTS
    from reports.services import funnel_rollup_refresh

    load_start = os.getloadavg()
    out.write(f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")
    _build(options, out)
    _vacuum(out)
    rollup = funnel_rollup_refresh()
    out.write(f"rebuilt the funnel rollup in {rollup.duration_ms / 1000:.1f} s")
    _reps, manager_user = _users()
    User = get_user_model()
    factory = RequestFactory()

    def request(path):
        req = factory.get(path)
        req.user = User.objects.get(pk=manager_user.pk)  # fresh: permissions are loaded per request
        return req

    changelist = admin.site._registry[Assignment].changelist_view
    baseline = _measure(lambda: changelist(request("/admin/crm/assignment/")), options["runs"], options["warmup"])
    out.write(
        f"baseline  admin assignment changelist  p50 {baseline['p50_ms']:8.1f} ms  p95 {baseline['p95_ms']:8.1f} ms"
        f"  {baseline['queries']} queries"
    )
    pages = {}
    for slug in REPORTS:

        def render(slug=slug):
            response = report_view(request(f"/admin/reports/{slug}/"), slug)
            response.render() if hasattr(response, "render") else None
            return response

        pages[slug] = _measure(render, options["runs"], options["warmup"])
        figures = pages[slug]
        out.write(
            f"report    {slug:<28} p50 {figures['p50_ms']:8.1f} ms  p95 {figures['p95_ms']:8.1f} ms"
            f"  {figures['queries']} queries"
        )
    with override_settings(REPORTS_FUNNEL_ROLLUP_MAX_AGE_MINUTES=-1):  # the rollup counts as stale
        funnel_live = _measure(
            lambda: report_view(request("/admin/reports/funnel/"), "funnel"), options["runs"], options["warmup"]
        )
    out.write(
        f"also      funnel, counted live         p50 {funnel_live['p50_ms']:8.1f} ms  p95 {funnel_live['p95_ms']:8.1f} ms"
        f"  {funnel_live['queries']} queries"
    )
    load_end = os.getloadavg()
    out.write(f"load average at end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    max_p95 = max(p["p95_ms"] for p in pages.values())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_assignment")
        n_assignments = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM crm_call")
        n_calls = cursor.fetchone()[0]
    out.write(f"max p95 {max_p95:.1f} ms (goal <= {GOAL_P95_MS:.0f} ms)")
    return {
        "bench": "reports",
        "leads": Lead.objects.count(),
        "assignments": n_assignments,
        "calls": n_calls,
        "runs": options["runs"],
        "pages": pages,
        "max_p95_ms": max_p95,
        "goal_p95_ms": GOAL_P95_MS,
        "meets_goal": max_p95 <= GOAL_P95_MS,
        "baseline": {"admin_assignment_changelist": baseline},
        "max_p95_vs_baseline": round(max_p95 / baseline["p95_ms"], 1) if baseline["p95_ms"] else None,
        "funnel_live": funnel_live,
        "funnel_rollup_rebuild_ms": rollup.duration_ms,
        "load_average": {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in load_end]},
    }


BENCHMARKS = {"reports": (add_arguments, run)}
