"""`python manage.py bench search --leads 1000000` (PostgreSQL).

Builds (once; later runs reuse it) ``--leads`` generated leads, 10 % of them owned by ``--reps``
reps with an open assignment each, plus accounts, contacts and deals for those reps. Then it
times the header search (``crm.search.search_for_user``: leads, contacts, accounts, deals with
their row rules) as a rep and as a manager for four kinds of query taken from the data: a
surname, an e-mail prefix, a phone fragment and a misspelt company. Baseline from the same
run: the naive search (``ILIKE '%term%'`` over the lead's text columns, no trigram index).
Prints p50/p95 per kind and role, the query count, the load average; last line one JSON object.
"""

from __future__ import annotations

import os
import random
import statistics
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.roles import SALES_MANAGER, SALES_REP
from crm.models import Assignment, SalesQueue
from crm.search import search_for_user
from devtools.demo.leads import generate_leads
from leads.models import Lead

EMAIL_PREFIX = "search"
REP_PREFIX = "bench-search-rep-"
MANAGER = "bench-search-manager"
QUEUE_NAME = "Bench: search"
GOAL_P95_MS = 50.0
KINDS = ("surname", "email_prefix", "phone_fragment", "misspelt_company")


def add_arguments(parser):
    parser.add_argument("--leads", type=int, default=1_000_000, help="Generated leads in the database.")
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--queries", type=int, default=25, help="Different queries of each kind.")
    parser.add_argument("--runs", type=int, default=3, help="Timed runs of each query per role.")
    parser.add_argument("--baseline-runs", type=int, default=5, help="Timed naive ILIKE searches.")
    parser.add_argument("--seed", type=int, default=11)


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def _users(n: int):
    User = get_user_model()
    rep_group, _ = Group.objects.get_or_create(name=SALES_REP)
    manager_group, _ = Group.objects.get_or_create(name=SALES_MANAGER)
    names = [f"{REP_PREFIX}{i:04d}" for i in range(n)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create([User(username=name, password="!") for name in names if name not in existing])
    reps = list(User.objects.filter(username__in=names).order_by("username"))
    rep_group.user_set.add(*reps)
    manager, _ = User.objects.get_or_create(username=MANAGER, defaults={"password": "!"})
    manager_group.user_set.add(manager)
    return reps, manager


def _build(options, out) -> None:
    n_leads = options["leads"]
    have = Lead.objects.filter(email__startswith=EMAIL_PREFIX).count()
    if have < n_leads:
        started = time.perf_counter()
        generate_leads(n_leads - have, seed=options["seed"], start=have, email_prefix=EMAIL_PREFIX)
        out.write(f"generated {n_leads - have} leads in {time.perf_counter() - started:.1f} s")
    reps, _manager = _users(options["reps"])
    queue, _ = SalesQueue.objects.get_or_create(name=QUEUE_NAME, defaults={"priority": 10_000})
    if Assignment.objects.filter(queue=queue).exists():
        out.write("reusing the data built by an earlier run")
        return
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        # Every tenth lead is with sales: owned by a rep (round robin) with an open assignment.
        cursor.execute(
            """
            CREATE TEMP TABLE bench_owned ON COMMIT DROP AS
            SELECT id AS lead_id, (%(reps)s::bigint[])[1 + (n / 10) %% %(nreps)s] AS rep_id, n
            FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM leads_lead
                  WHERE email LIKE %(prefix)s) numbered
            WHERE n %% 10 = 3
            """,
            {"reps": [r.pk for r in reps], "nreps": len(reps), "prefix": f"{EMAIL_PREFIX}%"},
        )
        cursor.execute(
            "UPDATE leads_lead l SET owner_id = o.rep_id, stage = 'handed_off' FROM bench_owned o WHERE l.id = o.lead_id"
        )
        cursor.execute(
            """
            INSERT INTO crm_assignment (lead_id, queue_id, rep_id, status, handed_off_at, assigned_at, sla_due_at,
                                        rejected_reason, rejected_note)
            SELECT lead_id, %(queue)s, rep_id, 'assigned', %(now)s, %(now)s, %(now)s + interval '1 hour', '', ''
            FROM bench_owned
            """,
            {"queue": queue.pk, "now": now},
        )
        # One in 20 owned leads became a customer: an account, a contact and a deal.
        cursor.execute(
            """
            INSERT INTO crm_account (name, domain, industry, country, owner_id, is_customer, created_at)
            SELECT l.company || ' ' || o.n, '', l.industry, 'PT', o.rep_id, true, %(now)s
            FROM bench_owned o JOIN leads_lead l ON l.id = o.lead_id WHERE o.n %% 200 = 3
            """,
            {"now": now},
        )
        cursor.execute(
            """
            INSERT INTO crm_contact (account_id, lead_id, first_name, last_name, email, phone, title, created_at)
            SELECT a.id, l.id, l.first_name, l.last_name, l.email, l.phone, '', %(now)s
            FROM bench_owned o JOIN leads_lead l ON l.id = o.lead_id
            JOIN crm_account a ON a.name = l.company || ' ' || o.n
            WHERE o.n %% 200 = 3
            """,
            {"now": now},
        )
        cursor.execute(
            """
            INSERT INTO crm_deal (name, account_id, contact_id, lead_id, owner_id, stage, amount, currency,
                                  lost_reason, lost_note, created_at, updated_at)
            SELECT a.name || ' pilot', a.id, c.id, c.lead_id, a.owner_id, 'proposal', 10000, 'EUR', '', '',
                   %(now)s, %(now)s
            FROM crm_contact c JOIN crm_account a ON a.id = c.account_id
            WHERE c.lead_id IN (SELECT lead_id FROM bench_owned)
            """,
            {"now": now},
        )
    with connection.cursor() as cursor:
        for table in ("leads_lead", "crm_assignment", "crm_account", "crm_contact", "crm_deal"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    out.write(f"built owners, assignments, accounts, contacts and deals in {time.perf_counter() - started:.1f} s")


def _misspell(rng: random.Random, text: str) -> str:
    """One edit in the longest word: a letter dropped, doubled or swapped with its neighbour."""
    words = text.split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    word = words[i]
    if len(word) < 4:
        return text
    at = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("drop", "swap", "double"))
    if edit == "drop":
        word = word[:at] + word[at + 1 :]
    elif edit == "swap":
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    else:
        word = word[:at] + word[at] + word[at:]
    words[i] = word
    return " ".join(words)


def _queries(rng: random.Random, owner, count: int) -> dict[str, list[str]]:
    """Queries of each kind taken from the leads the rep owns (so a rep's search has hits)."""
    ids = list(Lead.objects.filter(owner=owner).order_by("?").values_list("id", flat=True)[: count * 4])
    leads = list(Lead.objects.filter(pk__in=ids).only("last_name", "email", "phone_digits", "company"))
    rng.shuffle(leads)
    out = {kind: [] for kind in KINDS}
    for lead in leads[:count]:
        out["surname"].append(lead.last_name)
        out["email_prefix"].append(lead.email.split("@")[0][: max(6, len(lead.email.split("@")[0]) - 3)])
        digits = lead.phone_digits
        start = rng.randrange(3, max(4, len(digits) - 5))
        out["phone_fragment"].append(digits[start : start + 5])
        out["misspelt_company"].append(_misspell(rng, lead.company))
    return out


NAIVE_SQL = """
SELECT id, first_name, last_name, email, company FROM leads_lead
WHERE first_name || ' ' || last_name ILIKE %(like)s OR email ILIKE %(like)s OR company ILIKE %(like)s
   OR phone ILIKE %(like)s OR company_domain ILIKE %(like)s
ORDER BY id DESC LIMIT 5
"""


def run(options, stdout) -> dict:
    if connection.vendor != "postgresql":
        raise CommandError("The search benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")

    class Out:
        def write(self, line):
            stdout.write(line)

    _build(options, Out())
    reps, manager = _users(options["reps"])
    rep = reps[0]
    rng = random.Random(options["seed"])
    queries = _queries(rng, rep, options["queries"])
    total = Lead.objects.count()
    load_start = os.getloadavg()

    def timed(user, query) -> float:
        started = time.perf_counter()
        search_for_user(user=user, query=query)
        return (time.perf_counter() - started) * 1000

    samples: dict[tuple[str, str], list[float]] = {}
    hits: dict[tuple[str, str], int] = {}
    query_counts = set()
    for role, user in (("rep", rep), ("manager", manager)):
        for kind in KINDS:
            for query in queries[kind][:3]:  # warm-up
                search_for_user(user=user, query=query)
            found = 0
            for query in queries[kind]:
                user._baton_roles = None  # count the role lookup too, as a fresh request would
                with CaptureQueriesContext(connection) as captured:
                    groups = search_for_user(user=user, query=query)
                query_counts.add(len(captured.captured_queries))
                found += bool(groups and groups[0].results)
                for _ in range(options["runs"]):
                    samples.setdefault((role, kind), []).append(timed(user, query))
            hits[(role, kind)] = found
    every = [ms for values in samples.values() for ms in values]

    naive = []
    for query in queries["misspelt_company"][: options["baseline_runs"]]:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(NAIVE_SQL, {"like": f"%{query}%"})
            cursor.fetchall()
        naive.append((time.perf_counter() - started) * 1000)
    for query in queries["surname"][: options["baseline_runs"]]:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(NAIVE_SQL, {"like": f"%{query}%"})
            cursor.fetchall()
        naive.append((time.perf_counter() - started) * 1000)

    load_end = os.getloadavg()
    for (role, kind), values in samples.items():
        stdout.write(
            f"{role:8s} {kind:17s} p50 {statistics.median(values):7.2f} ms  p95 {_percentile(values, 95):7.2f} ms"
            f"  ({hits[(role, kind)]}/{len(queries[kind])} queries found a lead; e.g. {queries[kind][0]!r})"
        )
    result = {
        "bench": "search",
        "leads": total,
        "p50_ms": round(statistics.median(every), 2),
        "p95_ms": round(_percentile(every, 95), 2),
        "queries": max(query_counts),
        "queries_min": min(query_counts),
        "reps": len(reps),
        "rep_owned_leads": Lead.objects.filter(owner=rep).count(),
        "samples": len(every),
        "by_kind_p95_ms": {
            f"{role}_{kind}": round(_percentile(values, 95), 2) for (role, kind), values in samples.items()
        },
        "baseline_naive_ilike_p50_ms": round(statistics.median(naive), 2),
        "baseline_naive_ilike_p95_ms": round(_percentile(naive, 95), 2),
        "goal_p95_ms": GOAL_P95_MS,
        "load_avg_start": [round(x, 2) for x in load_start],
        "load_avg_end": [round(x, 2) for x in load_end],
        "cpus": os.cpu_count(),
    }
    result["meets_goal"] = result["p95_ms"] <= GOAL_P95_MS
    stdout.write(
        f"all searches: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, {result['queries']} queries each "
        f"(goal p95 <= {GOAL_P95_MS} ms); baseline naive ILIKE p50 {result['baseline_naive_ilike_p50_ms']} ms, "
        f"p95 {result['baseline_naive_ilike_p95_ms']} ms; load average {load_start[0]:.2f} -> {load_end[0]:.2f} "
        f"on {os.cpu_count()} CPUs"
    )
    return result


BENCHMARKS = {"search": (add_arguments, run)}
