"""`python manage.py bench chaos --leads 10000`: proof under faults, counted from the database.

PostgreSQL (the configured database) + a Redis of its own (a ``redis-server`` this bench starts
on a free port, configured like docker-compose's: no persistence) + real worker processes
(``celery -A config worker -Q marketing,handoff,handoff_sweep,sales``). It:

1. creates ``--leads`` leads with an engagement event each and an engagement rule that makes
   every one of them qualify, and queues their scoring in import-sized batches
   (``leads.tasks.leads_score_batch_task``: score, qualify, ``lead_qualified`` on commit, the
   hand-off, the rep's notification and its e-mail outbox row, the e-mail task);
2. meanwhile SIGKILLs a worker every ``--kill-every`` seconds (``--kills`` times; odd kills a
   pool process, which Celery replaces, even kills a whole worker with its pool, which the
   bench replaces), restarts Redis once for ``--redis-down`` seconds once every lead is scored
   (the queues are lost with it, as without persistence), and plays beat: every
   ``--beat-every`` seconds it sends ``--sweeps`` hand-off sweeps at once plus the qualification
   and e-mail resend jobs (beat sends each every 60 s);
3. after the last fault, waits until every lead has an active assignment and every outbox row
   is sent (``settle_s``), and counts: lost (no active assignment), doubled (more than one),
   reps over capacity, duplicate notifications, leads whose HANDED_OFF or MQL transitions are
   not exactly one, e-mails lost (an outbox row whose Message-ID no worker wrote) and
   duplicated (written twice), from the workers' file e-mail backend.

Workers get ``CELERY_VISIBILITY_TIMEOUT=--visibility-timeout`` (default 60 s, above the
longest task of this bench): a whole worker killed leaves its unacknowledged messages to Redis,
which hands them out again after that time.
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PREFIX = "bench-chaos-"
QUEUE_NAME = "Bench chaos"
RULE_NAME = "Bench chaos webinar"
QUEUES = "marketing,handoff,handoff_sweep,sales"
MESSAGE_ID = re.compile(r"^Message-ID: <baton-outbox-(\d+)@", re.MULTILINE)
ROOT = Path(__file__).resolve().parent.parent.parent


def add_arguments(parser) -> None:
    parser.add_argument("--leads", type=int, default=10_000, help="leads qualified through the real path")
    parser.add_argument("--workers", type=int, default=3, help="worker processes (each with its own pool)")
    parser.add_argument("--concurrency", type=int, default=2, help="pool processes per worker")
    parser.add_argument("--kills", type=int, default=20, help="worker SIGKILLs")
    parser.add_argument("--kill-every", type=float, default=3.0, help="seconds between kills")
    parser.add_argument("--redis-down", type=float, default=5.0, help="seconds Redis stays down")
    parser.add_argument("--sweeps", type=int, default=4, help="hand-off sweeps sent at once each beat")
    parser.add_argument("--beat-every", type=float, default=15.0, help="seconds between the bench's beats")
    parser.add_argument("--batch", type=int, default=100, help="leads per scoring task")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--visibility-timeout", type=int, default=60)
    parser.add_argument("--settle-timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)


# --- the bench's own Redis -------------------------------------------------------------------


class RedisServer:
    def __init__(self, workdir: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - kept open for the child
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as c:
                c.sendall(b"PING\r\n")
                if c.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# --- workers -------------------------------------------------------------------------------


class Worker:
    def __init__(self, n: int, *, env: dict, concurrency: int, log_dir: Path):
        self.n, self.env, self.concurrency, self.log_path = n, env, concurrency, log_dir / f"worker-{n}.log"
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                QUEUES,
                "-l",
                "info",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"chaos-{n}-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def children(self) -> list[int]:
        """The pool processes (forked by any thread of the main process: read every task's list)."""
        found: list[int] = []
        for path in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                found += [int(p) for p in path.read_text().split()]
        return found

    def kill(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


# --- data ----------------------------------------------------------------------------------


def _clean() -> None:
    from leads.models import EngagementEvent, ScoringRule

    from .handoff import bench_sales_rows_delete

    EngagementEvent.objects.filter(lead__email__startswith=PREFIX).delete()
    bench_sales_rows_delete(prefix=PREFIX, queue_name=QUEUE_NAME)
    ScoringRule.objects.filter(name=RULE_NAME).delete()


def _setup(*, n: int, reps: int, seed: int) -> tuple[list[int], dict]:
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from crm.models import QueueMembership, SalesQueue
    from devtools.demo.leads import generate_leads
    from leads.api import Lead
    from leads.models import EngagementEvent, RuleKind, ScoringPolicy, ScoringRule

    queue = SalesQueue.objects.create(
        name=QUEUE_NAME,
        priority=0,  # ahead of any other queue: every bench lead is routed here
        business_days=[0, 1, 2, 3, 4, 5, 6],
        business_hours_start=datetime.time(0, 0),
        business_hours_end=datetime.time(23, 59),
    )
    capacity = math.ceil(n / reps) + 10
    User = get_user_model()
    for i in range(reps):
        user = User.objects.create(username=f"{PREFIX}rep{i}", email=f"{PREFIX}rep{i}@example.com")
        QueueMembership.objects.create(queue=queue, rep=user, capacity=capacity)
    generate_leads(n, seed=seed, email_prefix=PREFIX)
    leads = Lead.objects.filter(email__startswith=PREFIX)
    leads.update(do_not_call=False, do_not_contact=False, score=0, fit_score=0, scored_at=None)
    policy = ScoringPolicy.current()
    saved_policy = {"threshold": policy.threshold, "fit_minimum": policy.fit_minimum}
    ScoringPolicy.objects.filter(pk=policy.pk).update(threshold=min(policy.threshold, 50), fit_minimum=0)
    ScoringRule.objects.create(
        name=RULE_NAME, kind=RuleKind.ENGAGEMENT, event_kind="webinar", points_per_event=1000, is_active=True
    )
    now = timezone.now()
    ids = list(leads.order_by("pk").values_list("pk", flat=True))
    EngagementEvent.objects.bulk_create(
        [EngagementEvent(lead_id=pk, kind="webinar", occurred_at=now, source_reference=f"{PREFIX}{pk}") for pk in ids],
        batch_size=5000,
    )
    leads.update(last_engaged_at=now)
    random.Random(seed).shuffle(ids)
    return ids, saved_policy


def _restore_policy(saved: dict) -> None:
    from leads.models import ScoringPolicy, ScoringRule

    ScoringRule.objects.filter(name=RULE_NAME).delete()
    ScoringPolicy.objects.filter(pk=ScoringPolicy.current().pk).update(**saved)


def _sent_message_ids(mail_dir: Path) -> collections.Counter:
    counts: collections.Counter = collections.Counter()
    for path in mail_dir.glob("*"):
        with contextlib.suppress(OSError):
            counts.update(int(m) for m in MESSAGE_ID.findall(path.read_text(errors="replace")))
    return counts


# --- the run -------------------------------------------------------------------------------


def _point_app_at(app, url: str) -> None:
    """Publish to ``url`` from now on (the read/write URLs were resolved from the settings)."""
    app._pool = None  # new pools for the new URL (the old ones are left to the garbage collector)
    app.amqp._producer_pool = None
    app.conf.broker_url = app.conf.broker_write_url = app.conf.broker_read_url = url


def _send(app, name: str, *args, failures: collections.Counter) -> None:
    try:
        app.send_task(name, args=list(args))
    except Exception:  # noqa: BLE001 - the broker may be down right now: counted, not fatal
        failures[name] += 1


def run(options, stdout) -> dict:  # noqa: C901 - one scenario, told in order
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count, F, Q

    from config.celery import app
    from crm.models import (
        ACTIVE_ASSIGNMENT_STATUSES,
        OPEN_FOR_REP_STATUSES,
        Assignment,
        EmailOutbox,
        Notification,
        QueueMembership,
    )
    from leads.api import Lead, LeadTransition, LifecycleStage

    def out(line: str) -> None:
        stdout.write(line)
        stdout.flush()

    n = options["leads"]
    db = connection.vendor
    load_start = os.getloadavg()
    out(
        f"chaos benchmark: {n} leads, {options['workers']} workers x {options['concurrency']} processes, "
        f"{options['kills']} kills every {options['kill_every']:g} s, Redis down {options['redis_down']:g} s once, "
        f"{options['sweeps']} concurrent sweeps every {options['beat_every']:g} s; database {db}"
    )
    out(f"machine: {os.cpu_count()} CPUs, load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")
    if db != "postgresql" or not shutil.which("redis-server"):
        raise RuntimeError("bench chaos needs PostgreSQL (DATABASE_URL) and redis-server on PATH")

    workdir = Path(tempfile.mkdtemp(prefix="bench-chaos-"))
    mail_dir = workdir / "mail"
    mail_dir.mkdir()
    redis = RedisServer(workdir)
    previous_url = app.conf.broker_write_url or app.conf.broker_url
    # This process publishes to the bench's Redis too (the qualifying signals, the beat).
    _point_app_at(app, redis.url)
    settings.CELERY_BROKER_URL = redis.url
    env = dict(os.environ)
    env.update(
        CELERY_BROKER_URL=redis.url,
        CELERY_VISIBILITY_TIMEOUT=str(options["visibility_timeout"]),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

    failures: collections.Counter = collections.Counter()
    workers: list[Worker] = []
    kills = {"pool process": 0, "whole worker": 0}
    redis_restarts = 0
    numbered = iter(range(10_000))
    saved_policy = None
    redis.start()
    out(f"own redis-server on port {redis.port}; logs and e-mails under {workdir}")
    try:
        _clean()
        ids, saved_policy = _setup(n=n, reps=options["reps"], seed=options["seed"])
        bench_leads = Lead.objects.filter(email__startswith=PREFIX)
        workers = [
            Worker(next(numbered), env=env, concurrency=options["concurrency"], log_dir=workdir)
            for _ in range(options["workers"])
        ]
        time.sleep(3)
        t0 = time.monotonic()
        for i in range(0, len(ids), options["batch"]):
            _send(app, "leads.tasks.leads_score_batch_task", ids[i : i + options["batch"]], failures=failures)
        out(f"queued {math.ceil(len(ids) / options['batch'])} scoring tasks in {time.monotonic() - t0:.2f} s")

        rng = random.Random(options["seed"])
        next_kill = time.monotonic() + options["kill_every"]
        next_beat = time.monotonic()
        redis_done = False
        while kills["pool process"] + kills["whole worker"] < options["kills"] or not redis_done:
            now = time.monotonic()
            if now >= next_beat:
                for _ in range(options["sweeps"]):
                    _send(app, "crm.tasks.handoff_sweep_task", failures=failures)
                _send(app, "leads.tasks.leads_qualify_ready_task", failures=failures)
                _send(app, "crm.tasks.email_outbox_resend_task", failures=failures)
                next_beat = now + options["beat_every"]
            if now >= next_kill and kills["pool process"] + kills["whole worker"] < options["kills"]:
                k = kills["pool process"] + kills["whole worker"]
                with_pool = [w for w in workers if w.alive() and w.children()]
                victim = rng.choice(with_pool or [w for w in workers if w.alive()])
                children = victim.children()
                if k % 2 == 0 and children:
                    os.kill(rng.choice(children), signal.SIGKILL)  # the pool replaces it
                    kills["pool process"] += 1
                else:
                    victim.kill()
                    workers.remove(victim)
                    workers.append(Worker(next(numbered), env=env, concurrency=options["concurrency"], log_dir=workdir))
                    kills["whole worker"] += 1
                next_kill = now + options["kill_every"]
            if not redis_done and not bench_leads.filter(scored_at__isnull=True).exists():
                out(f"every lead scored at {now - t0:.1f} s; Redis goes down for {options['redis_down']:g} s")
                redis.stop()
                time.sleep(options["redis_down"])
                redis.start()
                redis_restarts += 1
                redis_done = True
                out(f"Redis back at {time.monotonic() - t0:.1f} s")
            if now - t0 > options["settle_timeout"]:
                out("the fault phase ran past the settle timeout")
                break
            time.sleep(0.2)
        faults_over = time.monotonic()
        out(f"faults over at {faults_over - t0:.1f} s: {kills} kills, {redis_restarts} Redis restart")

        def settled() -> bool:
            handed = Assignment.objects.filter(
                lead__in=bench_leads, status__in=OPEN_FOR_REP_STATUSES, rep__isnull=False
            ).count()
            unsent = EmailOutbox.objects.filter(notification__user__username__startswith=PREFIX, sent_at__isnull=True)
            return handed >= n and not unsent.exists()

        settle_s = None
        while time.monotonic() - faults_over < options["settle_timeout"]:
            if time.monotonic() >= next_beat:
                for _ in range(options["sweeps"]):
                    _send(app, "crm.tasks.handoff_sweep_task", failures=failures)
                _send(app, "leads.tasks.leads_qualify_ready_task", failures=failures)
                _send(app, "crm.tasks.email_outbox_resend_task", failures=failures)
                next_beat = time.monotonic() + options["beat_every"]
            if settled():
                settle_s = time.monotonic() - faults_over
                break
            time.sleep(0.5)
        total_s = time.monotonic() - t0
        time.sleep(3)  # let a task still running finish writing before counting
    finally:
        if saved_policy is not None:
            # Deleting the bench rule queues a re-score (to the bench's Redis, while it runs).
            with contextlib.suppress(Exception):
                _restore_policy(saved_policy)
        for worker in workers:
            worker.stop()
        redis.stop()
        _point_app_at(app, previous_url)

    active = Assignment.objects.filter(lead__in=bench_leads, status__in=ACTIVE_ASSIGNMENT_STATUSES)
    per_lead = active.values("lead_id").annotate(k=Count("pk"))
    lost = n - per_lead.count()
    doubled = per_lead.filter(k__gt=1).count()
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
    notifications = Notification.objects.filter(user__username__startswith=PREFIX, kind="assignment")
    duplicate_notifications = sum(
        row["k"] - 1 for row in notifications.values("user_id", "message").annotate(k=Count("pk")).filter(k__gt=1)
    )

    def not_one(stage) -> int:
        counts = (
            LeadTransition.objects.filter(lead__in=bench_leads, to_stage=stage)
            .values("lead_id")
            .annotate(k=Count("pk"))
            .filter(k=1)
            .count()
        )
        return n - counts

    handed_off_not_one = not_one(LifecycleStage.HANDED_OFF)
    mql_not_one = not_one(LifecycleStage.MQL)
    rows = list(
        EmailOutbox.objects.filter(notification__user__username__startswith=PREFIX).values_list("pk", flat=True)
    )
    sent = _sent_message_ids(mail_dir)
    emails_lost = sum(1 for pk in rows if sent[pk] == 0)
    emails_duplicated = sum(sent[pk] - 1 for pk in rows if sent[pk] > 1)
    notifications_without_email = notifications.filter(email_outbox__isnull=True).count()
    load_end = os.getloadavg()
    out(
        f"counted: lost {lost}, doubled {doubled}, reps over capacity {over_capacity}, duplicate notifications "
        f"{duplicate_notifications}, leads without exactly one HANDED_OFF transition {handed_off_not_one} "
        f"(MQL {mql_not_one}), e-mails: {len(rows)} outbox rows, lost {emails_lost}, duplicated "
        f"{emails_duplicated}, notifications without an outbox row {notifications_without_email}"
    )
    out(f"publishes refused while Redis was down: {dict(failures) or 0}")
    settled_text = f"in {settle_s:.1f} s" if settle_s is not None else "NOT within the timeout"
    out(
        f"settled {settled_text} after the last fault; {total_s:.1f} s in all; load average {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}"
    )
    return {
        "bench": "chaos",
        "leads": n,
        "kills": kills["pool process"] + kills["whole worker"],
        "redis_restarts": redis_restarts,
        "lost": lost,
        "doubled": doubled,
        "over_capacity": over_capacity,
        "duplicate_notifications": duplicate_notifications,
        "settle_s": round(settle_s, 1) if settle_s is not None else None,
        "emails_lost": emails_lost,
        "emails_duplicated": emails_duplicated,
        "handed_off_transitions_not_one": handed_off_not_one,
        "mql_transitions_not_one": mql_not_one,
        "kills_pool_process": kills["pool process"],
        "kills_whole_worker": kills["whole worker"],
        "total_s": round(total_s, 1),
        "load_avg_start": round(load_start[0], 2),
        "load_avg_end": round(load_end[0], 2),
    }


BENCHMARKS = {"chaos": (add_arguments, run)}
