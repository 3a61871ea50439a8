"""`python manage.py bench handoff --leads 10000`: the hand-off, measured end to end.

Real worker processes (``celery -A config worker -Q handoff,sales``) on the configured
database and broker (PostgreSQL + Redis for figures that mean anything). Three measurements,
all in the same run:

- floor: the Celery no-op round trip (``config.ping`` leaving a marker file that this process
  polls for every 1 ms): what any task costs on this broker before doing any work;
- speed-to-lead: leads qualified one by one at a steady rate, each through the lifecycle
  service with ``lead_qualified`` sent on commit (as marketing does); the time from the
  qualifying commit until the assignment is committed (seen by polling every 1 ms);
- burst: ``--leads`` leads qualified in one transaction (as a bulk re-score does), one signal
  each after commit; the time from that commit until every one has an active assignment.

Then it counts leads with more than one active assignment (``doubled``, must be 0) and reps
over capacity. The last line printed is one JSON object.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BENCH_PREFIX = "bench-handoff-"
QUEUE_NAME = "Bench hand-off"
POLL_S = 0.001


def add_arguments(parser) -> None:
    parser.add_argument("--leads", type=int, default=10_000, help="MQLs routed at once in the burst (default 10000)")
    parser.add_argument("--steady", type=int, default=200, help="leads qualified one by one for speed-to-lead")
    parser.add_argument("--rate", type=float, default=20.0, help="leads per second in the steady phase")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (prefork children)")
    parser.add_argument("--reps", type=int, default=20, help="reps in the benchmark queue")
    parser.add_argument("--pings", type=int, default=100, help="no-op round trips measured for the floor")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--worker-log-level", default="warning", help="the workers' log level (info logs each task)")


def _pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _clean() -> None:
    bench_sales_rows_delete(prefix=BENCH_PREFIX, queue_name=QUEUE_NAME)


def bench_sales_rows_delete(*, prefix: str, queue_name: str) -> None:
    """Delete a bench's leads (e-mail prefix), users (username prefix) and queue with every
    sales row hanging off them; shared by the benches that run the real hand-off."""
    from django.contrib.auth import get_user_model

    from crm.models import Assignment, HandoffRefusal, Notification, QueueMembership, SalesQueue, SlaBreach
    from leads.api import Lead, LeadTransition

    leads = Lead.objects.filter(email__startswith=prefix)
    SlaBreach.objects.filter(assignment__lead__in=leads).delete()
    Assignment.objects.filter(lead__in=leads).update(previous=None)
    Assignment.objects.filter(lead__in=leads).delete()
    Assignment.objects.filter(queue__name=queue_name).delete()
    HandoffRefusal.objects.filter(lead__in=leads).delete()
    LeadTransition.objects.filter(lead__in=leads).delete()
    leads.delete()
    users = get_user_model().objects.filter(username__startswith=prefix)
    Notification.objects.filter(user__in=users).delete()  # their outbox rows go with them
    QueueMembership.objects.filter(queue__name=queue_name).delete()
    SalesQueue.objects.filter(name=queue_name).delete()
    users.delete()


def _setup(*, reps: int, capacity: int, n_leads: int, seed: int) -> list[int]:
    import datetime

    from django.contrib.auth import get_user_model

    from crm.models import QueueMembership, SalesQueue
    from devtools.demo.leads import generate_leads
    from leads.api import Lead

    queue = SalesQueue.objects.create(
        name=QUEUE_NAME,
        priority=0,
        business_days=[0, 1, 2, 3, 4, 5, 6],
        business_hours_start=datetime.time(0, 0),
        business_hours_end=datetime.time(23, 59),
    )
    User = get_user_model()
    for i in range(reps):
        user = User.objects.create(username=f"{BENCH_PREFIX}rep{i}", email=f"{BENCH_PREFIX}rep{i}@example.com")
        QueueMembership.objects.create(queue=queue, rep=user, capacity=capacity)
    generate_leads(n_leads, seed=seed, email_prefix=BENCH_PREFIX)
    leads = Lead.objects.filter(email__startswith=BENCH_PREFIX)
    # Benchmark data, not a lifecycle move: every generated lead may be called.
    leads.update(do_not_call=False, do_not_contact=False)
    _vacuum()
    return list(leads.order_by("pk").values_list("pk", flat=True))


def _vacuum() -> None:
    """Earlier runs leave dead rows behind; measure a database in its steady state."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in (
            "leads_lead",
            "leads_leadtransition",
            "crm_assignment",
            "crm_notification",
            "crm_queuemembership",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


def _purge() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        for queue in ("handoff", "sales"):
            with contextlib.suppress(Exception):
                conn.default_channel.queue_purge(queue)


ROOT = Path(__file__).resolve().parent.parent.parent  # the repository: `celery -A config` imports from here


def start_workers(
    *, queues: str, concurrency: int, log_path: Path, log_level: str = "warning", env: dict | None = None
) -> subprocess.Popen:
    """Real prefork Celery workers on ``queues`` in their own process group (stop them with
    ``stop_workers``); shared by the benches that drive real workers."""
    child_env = dict(os.environ)
    child_env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    child_env["PYTHONUNBUFFERED"] = "1"
    child_env.update(env or {})
    log = open(log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queues,
            "-l",
            log_level,
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=ROOT,
        env=child_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_workers(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _ping_round_trip(timeout: float = 60.0) -> float:
    from django.conf import settings

    from config.celery import ping

    marker = f"bench-{uuid.uuid4().hex}"
    path = Path(settings.VAR_DIR) / "pings" / marker
    t0 = time.perf_counter()
    ping.delay(marker)
    deadline = t0 + timeout
    while not path.exists():
        if time.perf_counter() > deadline:
            raise RuntimeError("no worker answered a ping")
        time.sleep(POLL_S)
    elapsed = time.perf_counter() - t0
    path.unlink(missing_ok=True)
    return elapsed


def _active_exists(cursor, lead_id: int) -> bool:
    cursor.execute(
        "SELECT 1 FROM crm_assignment WHERE lead_id = %s AND status IN ('queued', 'assigned', 'accepted') LIMIT 1",
        [lead_id],
    )
    return cursor.fetchone() is not None


def _qualify_one(lead_id: int, stamps: dict) -> None:
    from django.db import transaction

    from leads.api import Lead, LifecycleStage, lead_qualified, lead_transition

    with transaction.atomic():
        lead_transition(lead_id=lead_id, to_stage=LifecycleStage.MQL)
        transaction.on_commit(lambda: stamps.__setitem__(lead_id, time.perf_counter()))
        transaction.on_commit(lambda: lead_qualified.send(sender=Lead, lead_id=lead_id))


def run(options, stdout) -> dict:
    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models import Count, F, Q

    from crm.models import ACTIVE_ASSIGNMENT_STATUSES, OPEN_FOR_REP_STATUSES, Assignment, QueueMembership
    from leads.api import Lead, LifecycleStage, lead_qualified, lead_transition

    n_burst, n_steady = options["leads"], options["steady"]
    db, broker = connection.vendor, settings.CELERY_BROKER_URL.split(":", 1)[0]
    out = stdout.write
    out(
        f"hand-off benchmark: {n_steady} leads one by one at {options['rate']:g}/s, then {n_burst} at once; "
        f"{options['workers']} worker processes; database {db}, broker {broker}"
    )
    load_start = os.getloadavg()[0]
    out(f"machine: {os.cpu_count()} CPUs, load average {load_start:.2f} at the start")
    if db != "postgresql" or broker != "redis":
        out("WARNING: not PostgreSQL + Redis; these figures say little about production")

    _clean()
    capacity = math.ceil((n_burst + n_steady) / options["reps"]) + 10
    lead_ids = _setup(reps=options["reps"], capacity=capacity, n_leads=n_burst + n_steady, seed=options["seed"])
    steady_ids, burst_ids = lead_ids[:n_steady], lead_ids[n_steady:]
    _purge()
    log_path = Path(tempfile.mkdtemp(prefix="bench-handoff-")) / "worker.log"
    worker = start_workers(
        queues="handoff,sales",
        concurrency=options["workers"],
        log_path=log_path,
        log_level=options["worker_log_level"],
        env={"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
    )
    out(f"worker log: {log_path}")
    try:
        _ping_round_trip()  # ready
        for _ in range(5):
            _ping_round_trip()  # warm both children

        floor = [_ping_round_trip() * 1000 for _ in range(options["pings"])]
        floor_ms = _pct(floor, 50)
        out(
            f"floor (Celery no-op round trip, n={len(floor)}): p50 {floor_ms:.2f} ms, "
            f"p95 {_pct(floor, 95):.2f} ms, p99 {_pct(floor, 99):.2f} ms"
        )

        stamps: dict[int, float] = {}
        latencies: list[float] = []
        interval = 1.0 / options["rate"]
        next_at = time.perf_counter()
        with connection.cursor() as cursor:
            for lead_id in steady_ids:
                time.sleep(max(0.0, next_at - time.perf_counter()))
                next_at += interval
                _qualify_one(lead_id, stamps)
                t0 = stamps[lead_id]
                deadline = t0 + 30
                while not _active_exists(cursor, lead_id):
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"lead {lead_id} not handed off within 30 s; see {log_path}")
                    time.sleep(POLL_S)
                latencies.append((time.perf_counter() - t0) * 1000)
        p50, p95, p99 = _pct(latencies, 50), _pct(latencies, 95), _pct(latencies, 99)
        out(
            f"speed-to-lead (qualifying commit -> assignment committed, n={len(latencies)}): "
            f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms, max {max(latencies):.2f} ms"
        )

        with transaction.atomic():
            for lead_id in burst_ids:
                lead_transition(lead_id=lead_id, to_stage=LifecycleStage.MQL)
        t_commit = time.perf_counter()
        for lead_id in burst_ids:
            lead_qualified.send(sender=Lead, lead_id=lead_id)
        t_published = time.perf_counter()
        # Every bench lead is routed to the bench queue, which has room for all: done when each
        # has been given to a rep. Counting the queue's assignments (an index range) every
        # 20 ms keeps the observer light.
        active = Assignment.objects.filter(queue__name=QUEUE_NAME, status__in=OPEN_FOR_REP_STATUSES, rep__isnull=False)
        expected = len(burst_ids) + len(steady_ids)
        deadline = t_commit + 900
        while active.count() < expected:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"burst not handed off within 900 s; see {log_path}")
            time.sleep(0.02)
        burst_s = time.perf_counter() - t_commit
        out(
            f"burst: {len(burst_ids)} MQLs assigned to reps {burst_s:.2f} s after their qualifying commit "
            f"({len(burst_ids) / burst_s:.0f} leads/s; publishing the {len(burst_ids)} signals took "
            f"{t_published - t_commit:.2f} s of it)"
        )
    finally:
        stop_workers(worker)
        _purge()

    bench_leads = Lead.objects.filter(pk__in=lead_ids)
    assigned = Assignment.objects.filter(
        lead__in=bench_leads.filter(pk__in=burst_ids), status__in=OPEN_FOR_REP_STATUSES, rep__isnull=False
    ).count()
    doubled = (
        Assignment.objects.filter(lead__in=bench_leads, status__in=ACTIVE_ASSIGNMENT_STATUSES)
        .values("lead_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    over_capacity = (
        QueueMembership.objects.filter(queue__name=QUEUE_NAME)
        .annotate(
            open_count=Count(
                "rep__assignments",
                filter=Q(rep__assignments__queue=F("queue"), rep__assignments__status__in=OPEN_FOR_REP_STATUSES),
            )
        )
        .filter(open_count__gt=F("capacity"))
        .count()
    )
    handed_off = bench_leads.filter(stage=LifecycleStage.HANDED_OFF).count()
    out(
        f"checks: {assigned} of {len(burst_ids)} burst leads assigned to a rep, {handed_off} bench leads "
        f"HANDED_OFF, {doubled} with more than one active assignment, {over_capacity} reps over capacity"
    )
    return {
        "bench": "handoff",
        "leads": len(burst_ids),
        "p50_ms": round(p50, 2),
        "p95_ms": round(p95, 2),
        "p99_ms": round(p99, 2),
        "floor_ms": round(floor_ms, 2),
        "burst_s": round(burst_s, 2),
        "assigned": assigned,
        "doubled": doubled,
        "steady": len(latencies),
        "over_capacity": over_capacity,
        "workers": options["workers"],
        "load_avg_start": round(load_start, 2),
        "load_avg_end": round(os.getloadavg()[0], 2),
        "database": db,
        "broker": broker,
    }


BENCHMARKS = {"handoff": (add_arguments, run)}
