"""``python manage.py bench rescore_daily --leads N --changed F``: the nightly re-score at a
cost proportional to what changed.

Data: the scoring benchmark's bench leads and events (``devtools.benchmarks.leads``) and its
demo rules: use a bench database. The bench scores every lead as of ``now`` (a full run), moves
the leads already over the threshold to MQL set-based (setup, so that the timed qualification
only sees the day's crossings), adds one to three events to a share ``F`` of the leads during
the next day, advances the clock a day and runs the daily job (``leads_rescore_daily``) and the
qualification after it; then, on the same rows, a full re-score (``leads_rescore_all``), the
baseline, and compares every lead's score with the daily job's (kept in a side table first).
A missed qualification is a lead the full re-score finds qualifying that the daily run left
unqualified; a double one a lead moved to MQL twice.
"""

from __future__ import annotations

import datetime
import os
import random
import time


def rescore_daily_arguments(parser) -> None:
    parser.add_argument("--leads", type=int, default=100_000, help="bench leads (default 100000)")
    parser.add_argument("--changed", type=float, default=0.01, help="share of leads with new events (default 0.01)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench data")


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def rescore_daily_run(options, stdout) -> dict:
    from django.db import connection
    from django.db.models import Count, Q
    from django.utils import timezone

    from devtools.benchmarks.leads import _vacuum, ensure_leads, install_demo_rules
    from leads.models import DailyRescore, EngagementEvent, Lead, LeadTransition, LifecycleStage, ScoringPolicy
    from leads.scoring import (
        DAILY_OVERLAP,
        leads_qualify_ready,
        leads_rescore_all,
        leads_rescore_daily,
        qualification_q,
    )
    from leads.services import lead_engagement_refresh

    def say(text):
        stdout.write(text)
        stdout.flush()

    if not 0 < options["changed"] <= 1:
        from django.core.management.base import CommandError

        raise CommandError("--changed must be a share of the leads, 0 < F <= 1.")
    ensure_leads(options["leads"], fresh=options["fresh"], stdout=stdout)
    install_demo_rules()
    total = Lead.objects.count()
    # The simulated clock starts past the daily job's look-back over the data just written.
    now0 = timezone.now() + 2 * DAILY_OVERLAP
    DailyRescore.objects.all().delete()
    _, setup_s = _timed(lambda: leads_rescore_daily(now=now0, qualify=False))
    policy = ScoringPolicy.current()
    already = Lead.objects.filter(qualification_q(policy)).update(stage=LifecycleStage.MQL)
    say(f"{total} leads scored as of now in {setup_s:.1f} s (a full run); {already} already over the threshold set MQL")

    rng = random.Random(11)
    ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    changed_ids = rng.sample(ids, max(1, round(len(ids) * options["changed"])))
    day = datetime.timedelta(days=1)
    kinds = ("webinar", "email_click", "page_view", "form_submit", "email_open")
    events = [
        EngagementEvent(lead_id=lead_id, kind=rng.choice(kinds), occurred_at=now0 + rng.uniform(0.05, 0.9) * day)
        for lead_id in changed_ids
        for _ in range(rng.randint(1, 3))
    ]
    first_new = (EngagementEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    EngagementEvent.objects.bulk_create(events, batch_size=5000)
    # The clock is simulated: the day's events are stamped as written during that day.
    EngagementEvent.objects.filter(pk__gte=first_new).update(created_at=now0 + day / 2)
    lead_engagement_refresh(lead_ids=changed_ids)
    now1 = now0 + day
    say(f"Added {len(events)} events to {len(changed_ids)} leads ({options['changed']:.1%}); clock advanced one day")

    _vacuum()
    load_before = os.getloadavg()
    daily, baton_s = _timed(lambda: leads_rescore_daily(now=now1, qualify=False))
    moved, qualify_s = 0, 0.0
    while True:
        (step, more), step_s = _timed(lambda: leads_qualify_ready(limit=1000))
        moved, qualify_s = moved + step, qualify_s + step_s
        if not (more and step):
            break
    say(
        f"Daily job: {baton_s:.2f} s ({daily['rescored']} leads re-scored from their events, "
        f"{daily['decayed']} moved forward by decay alone, full run: {daily['full']}); then qualification "
        f"{qualify_s:.2f} s ({moved} leads crossed the threshold and moved to MQL)"
    )

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_daily_scores")
        cursor.execute("CREATE TABLE bench_daily_scores AS SELECT id, score FROM leads_lead")
    _vacuum()
    _, full_s = _timed(lambda: leads_rescore_all(now=now1, qualify=False))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MAX(ABS(l.score - d.score)), COUNT(*) FROM leads_lead l JOIN bench_daily_scores d ON d.id = l.id"
        )
        max_abs_diff, compared = cursor.fetchone()
        cursor.execute("DROP TABLE bench_daily_scores")
    missed = Lead.objects.filter(qualification_q(policy)).count()
    doubled = (
        LeadTransition.objects.filter(to_stage=LifecycleStage.MQL, at__gte=now0)
        .values("lead")
        .annotate(n=Count("id"))
        .filter(Q(n__gt=1))
        .count()
    )
    load = os.getloadavg()
    say(
        f"Full re-score (baseline, same rows): {full_s:.2f} s; daily / full = {baton_s / full_s:.3f}; "
        f"max |score difference| over {compared} leads: {max_abs_diff:.2e}; missed qualifications {missed}, "
        f"doubled {doubled}"
    )
    say(
        f"Load average before the daily job: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
        f"at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    return {
        "bench": "rescore_daily",
        "vendor": connection.vendor,
        "leads": total,
        "changed": options["changed"],
        "baton_s": round(baton_s, 3),
        "full_s": round(full_s, 3),
        "max_abs_diff": max_abs_diff,
        "missed_qualifications": missed,
        "double_qualifications": doubled,
        "rescored": daily["rescored"],
        "decayed": daily["decayed"],
        "qualify_s": round(qualify_s, 3),
        "qualified": moved,
        "goal_baton_s": 10.0,
        "load_avg": [round(x, 2) for x in load],
    }


BENCHMARKS = {"rescore_daily": (rescore_daily_arguments, rescore_daily_run)}
