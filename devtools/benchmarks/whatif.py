"""``python manage.py bench whatif --leads N``: the scoring page's what-if on N bench leads.

Times ``leads.whatif.scoring_whatif`` for four kinds of change (threshold only, a fit rule,
an engagement rule, all at once), ``--repeat`` times each, and reports the p95 over all of them
(goal <= 2,000 ms at 1M leads). Baseline from the same run: one scan of the lead table
grouping the stored scores (the least any distribution can cost), and, once, what the what-if
replaces: re-scoring every lead with the change (rolled back). Data as ``bench scoring``
(the demo rule set replaces the rules of the database: use a bench database).
"""

from __future__ import annotations

import copy
import os
import time

from .leads import _pct, _say, ensure_leads, install_demo_rules


def add_arguments(parser) -> None:
    parser.add_argument("--leads", type=int, default=100_000, help="bench leads (default 100000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per kind of change (default 5)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench data")
    parser.add_argument("--skip-rescore", action="store_true", help="skip the full re-score comparison")


def _changes(snapshot: dict) -> dict[str, dict]:
    def changed(fn):
        data = copy.deepcopy(snapshot)
        fn(data)
        return data

    def threshold(d):
        d["policy"]["threshold"] = 40

    def fit(d):
        next(r for r in d["rules"] if r["kind"] == "fit")["points"] += 10

    def engagement(d):
        rule = next(r for r in d["rules"] if r["kind"] == "engagement")
        rule["points_per_event"] += 5
        rule["half_life_days"] = 10

    def everything(d):
        threshold(d)
        fit(d)
        engagement(d)
        d["policy"]["fit_minimum"] = 15

    return {
        name: changed(fn)
        for name, fn in (("threshold", threshold), ("fit", fit), ("engagement", engagement), ("all", everything))
    }


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def run(options, stdout) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from leads.models import Lead
    from leads.rule_sets import policy_validate, rule_set_snapshot, rules_validate
    from leads.scoring import RuleSet, _rescore, leads_rescore_all
    from leads.whatif import scoring_whatif

    ensure_leads(options["leads"], fresh=options["fresh"], stdout=stdout)
    install_demo_rules()
    total = Lead.objects.count()
    now = timezone.now()
    leads_rescore_all(now=now, qualify=False)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE leads_lead")
    snapshot = rule_set_snapshot()
    changes = _changes(snapshot)
    _say(stdout, f"{total} leads; {_load()}")
    samples: list[float] = []
    for name, data in changes.items():
        scoring_whatif(rules=data["rules"], policy=data["policy"], now=now)  # warm-up
        runs = []
        for _ in range(options["repeat"]):
            start = time.perf_counter()
            result = scoring_whatif(rules=data["rules"], policy=data["policy"], now=now)
            runs.append((time.perf_counter() - start) * 1000)
        samples += runs
        _say(
            stdout,
            f"what-if {name:<10}: median {_pct(runs, 50):7.0f} ms, max {max(runs):7.0f} ms; "
            f"qualifying {result['qualifying_current']} -> {result['qualifying_proposed']} "
            f"(+{result['newly_crossing']} / -{result['falling_back']})",
        )
    p95 = _pct(samples, 95)
    baseline = []
    with connection.cursor() as cursor:
        for _ in range(options["repeat"]):
            start = time.perf_counter()
            cursor.execute("SELECT floor(score), COUNT(*) FROM leads_lead GROUP BY 1")
            cursor.fetchall()
            baseline.append((time.perf_counter() - start) * 1000)
    _say(stdout, f"baseline: one scan grouping stored scores: median {_pct(baseline, 50):.0f} ms")
    rescore_s = None
    if not options["skip_rescore"]:
        data = changes["all"]
        parsed = rules_validate(data["rules"])
        rules = RuleSet(
            policy=policy_validate(data["policy"]),
            fit=tuple(r for r in parsed if r.kind == "fit"),
            engagement=tuple(r for r in parsed if r.kind == "engagement"),
        )
        with transaction.atomic():
            start = time.perf_counter()
            _rescore(None, now=now, rules=rules)
            rescore_s = time.perf_counter() - start
            transaction.set_rollback(True)
        _say(stdout, f"baseline: re-scoring every lead with the change instead (rolled back): {rescore_s:.2f} s")
    _say(stdout, f"what-if p95 over {len(samples)} runs: {p95:.0f} ms (goal <= 2000 ms at 1M leads); {_load()}")
    return {
        "bench": "whatif",
        "leads": total,
        "p95_ms": round(p95, 1),
        "median_ms": round(_pct(samples, 50), 1),
        "baseline_scan_ms": round(_pct(baseline, 50), 1),
        "rescore_instead_s": round(rescore_s, 2) if rescore_s is not None else None,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "database": connection.vendor,
    }


BENCHMARKS = {"whatif": (add_arguments, run)}
