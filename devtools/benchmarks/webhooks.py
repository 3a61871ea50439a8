"""`python manage.py bench webhooks --events 10000`: webhook delivery end to end.

Real worker processes (``celery -A config worker -Q webhooks``) on the configured database and
broker (PostgreSQL + Redis for figures that mean anything) send to a local receiver in its own
process (http.server on 127.0.0.1) that answers 500 to 30 % of first attempts (chosen at
random per event) and, once, stops listening for 10 s (connection refused) after a third of
the events arrived. Events are real ones: leads qualified one by one through the lifecycle
service at ``--rate`` per second, each ``lead.qualified`` written to the outbox in the
qualifying transaction. The bench rings the sweep every 30 s as beat would.

Figures: delivered (events with a 2xx at the receiver), lost (committed events never
delivered when the run ends), duplicates (2xx deliveries of an event id beyond its first),
p95 commit-to-delivery of the events delivered on their first attempt (the goal: <= 500 ms)
and, for context, of all events (retries included) and the Celery no-op round trip measured in
the same run as a floor. Load averages are printed at the start and the end.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import random
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path

from .handoff import start_workers, stop_workers

BENCH_PREFIX = "bench-webhooks-"


def add_arguments(parser) -> None:
    parser.add_argument("--events", type=int, default=10_000, help="events (qualified leads), default 10000")
    parser.add_argument("--rate", type=float, default=100.0, help="events committed per second (default 100)")
    parser.add_argument("--workers", type=int, default=4, help="worker pool processes (default 4)")
    parser.add_argument("--fail-first", type=float, default=0.30, help="share of first attempts answered 500")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds the receiver stops once (0: never)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every delivery")
    parser.add_argument("--seed", type=int, default=11)


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- the receiver (its own process) ------------------------------------------------------------


def _receiver_main(port_queue, log_path: str, fail_first: float, outage: float, outage_after: int, seed: int):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    rng = random.Random(seed)
    lock = threading.Lock()
    seen: set[str] = set()
    state = {"count": 0, "outage_done": outage <= 0}
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - the process's lifetime

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            self.rfile.read(length)
            event_id = self.headers.get("X-Baton-Event-Id", "")
            with lock:
                first = event_id not in seen
                seen.add(event_id)
                status = 500 if first and rng.random() < fail_first else 200
                state["count"] += 1
                log.write(f"{event_id}\t{time.time():.6f}\t{status}\t{int(first)}\n")
                trigger = not state["outage_done"] and state["count"] >= outage_after
                if trigger:
                    state["outage_done"] = True
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            if trigger:
                threading.Thread(target=stop_for_a_while, daemon=True).start()

        def log_message(self, *args):
            pass

    servers = {}

    def serve(port=0):
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        servers["now"] = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server.server_address[1]

    def stop_for_a_while():
        server = servers["now"]
        port = server.server_address[1]
        server.shutdown()
        server.server_close()
        log.write(f"OUTAGE\t{time.time():.6f}\tstart\t0\n")
        time.sleep(outage)
        serve(port)
        log.write(f"OUTAGE\t{time.time():.6f}\tend\t0\n")

    port_queue.put(serve())
    signal.sigwait({signal.SIGTERM})


# --- the run -----------------------------------------------------------------------------------


def _clean() -> None:
    from integrations.models import WebhookSubscription
    from leads.api import Lead

    WebhookSubscription.objects.filter(name__startswith=BENCH_PREFIX).delete()
    Lead.objects.filter(email__startswith=BENCH_PREFIX).delete()


def _purge() -> None:
    from config.celery import app

    with app.connection_for_write() as conn, contextlib.suppress(Exception):
        conn.default_channel.queue_purge("webhooks")


def _ping_floor(n: int = 20) -> float:
    from django.conf import settings

    from config.celery import ping

    times = []
    for _ in range(n):
        marker = f"bench-{uuid.uuid4().hex}"
        path = Path(settings.VAR_DIR) / "pings" / marker
        t0 = time.perf_counter()
        ping.apply_async(args=[marker], queue="webhooks")
        deadline = t0 + 60
        while not path.exists():
            if time.perf_counter() > deadline:
                raise RuntimeError("no worker answered a ping on the webhooks queue")
            time.sleep(0.001)
        times.append(time.perf_counter() - t0)
        path.unlink(missing_ok=True)
    return _pct(times, 50)


def _read_log(path: Path) -> list[tuple[str, float, int, bool]]:
    rows = []
    for line in path.read_text().splitlines():
        event_id, at, status, first = line.split("\t")
        if event_id != "OUTAGE":
            rows.append((event_id, float(at), int(status), first == "1"))
    return rows


def run(options, stdout) -> dict:
    from django.conf import settings
    from django.db import connection, transaction

    from integrations.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
    from integrations.webhooks import webhooks_sweep
    from leads.api import Lead, LifecycleStage, lead_transition

    out = stdout.write
    n = options["events"]
    db, broker = connection.vendor, settings.CELERY_BROKER_URL.split(":", 1)[0]
    load_start = os.getloadavg()
    out(
        f"webhooks benchmark: {n} events at {options['rate']:g}/s, {options['workers']} worker processes, "
        f"receiver failing {options['fail_first']:.0%} of first attempts and stopping once for {options['outage']:g} s; "
        f"database {db}, broker {broker}"
    )
    out(
        f"machine: {os.cpu_count()} CPUs, load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f} at the start"
    )
    if db != "postgresql" or broker != "redis":
        out("WARNING: not PostgreSQL + Redis; these figures say little about production")

    _clean()
    _purge()
    tmp = Path(tempfile.mkdtemp(prefix=BENCH_PREFIX))
    receiver_log = tmp / "receiver.tsv"
    receiver_log.touch()
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    receiver = ctx.Process(
        target=_receiver_main,
        args=(ports, str(receiver_log), options["fail_first"], options["outage"], max(1, n // 3), options["seed"]),
        daemon=True,
    )
    receiver.start()
    port = ports.get(timeout=30)
    sub = WebhookSubscription.objects.create(
        name=f"{BENCH_PREFIX}receiver",
        url=f"http://127.0.0.1:{port}/hooks",
        events=["lead.qualified"],
        secret=uuid.uuid4().hex,
    )
    Lead.objects.bulk_create(
        Lead(email=f"{BENCH_PREFIX}{i}@example.com", stage=LifecycleStage.ENGAGED) for i in range(n)
    )
    lead_ids = list(Lead.objects.filter(email__startswith=BENCH_PREFIX).order_by("pk").values_list("pk", flat=True))
    workers = start_workers(
        queues="webhooks",
        concurrency=options["workers"],
        log_path=tmp / "worker.log",
        # As in production (docs/architecture.md): workers keep their database connection.
        env={
            "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "60"),
            "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1",
            "WEBHOOKS_REQUIRE_HTTPS": "0",
        },
    )
    committed: dict[int, float] = {}
    try:
        floor = _ping_floor()
        out(f"floor: Celery no-op round trip on the webhooks queue p50 {floor * 1000:.1f} ms")
        interval = 1.0 / options["rate"] if options["rate"] > 0 else 0.0
        started = time.perf_counter()
        next_sweep = time.monotonic() + 30
        for index, lead_id in enumerate(lead_ids):
            with transaction.atomic():
                lead_transition(lead_id=lead_id, to_stage=LifecycleStage.MQL, reason="bench")
            committed[lead_id] = time.time()
            wait = started + (index + 1) * interval - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            if time.monotonic() > next_sweep:
                webhooks_sweep()
                next_sweep = time.monotonic() + 30
        commit_seconds = time.perf_counter() - started
        out(f"committed {n} events in {commit_seconds:.1f} s ({n / commit_seconds:.0f}/s)")
        deadline = time.monotonic() + options["timeout"]
        pending = WebhookDelivery.objects.filter(subscription=sub).exclude(status=DeliveryStatus.DELIVERED)
        while pending.exists() and time.monotonic() < deadline:
            time.sleep(1)
            if time.monotonic() > next_sweep:
                webhooks_sweep()
                next_sweep = time.monotonic() + 30
        time.sleep(1)  # let the last answers reach the log
    finally:
        stop_workers(workers)
        os.kill(receiver.pid, signal.SIGTERM)
        receiver.join(timeout=10)

    events = dict(WebhookDelivery.objects.filter(subscription=sub).values_list("event_id", "payload__lead"))
    event_of_lead = {lead: str(event_id) for event_id, lead in events.items()}
    received = _read_log(receiver_log)
    ok_times: dict[str, list[float]] = {}
    first_ok: set[str] = set()
    for event_id, at, status, first in received:
        if 200 <= status < 300:
            ok_times.setdefault(event_id, []).append(at)
            if first:
                first_ok.add(event_id)
    delivered = sum(1 for lead in committed if event_of_lead.get(lead) in ok_times)
    lost = len(committed) - delivered
    duplicates = sum(len(times) - 1 for times in ok_times.values())
    latency_first = [
        (min(ok_times[event_of_lead[lead]]) - at) * 1000
        for lead, at in committed.items()
        if event_of_lead.get(lead) in first_ok
    ]
    latency_all = [
        (min(ok_times[event_of_lead[lead]]) - at) * 1000
        for lead, at in committed.items()
        if event_of_lead.get(lead) in ok_times
    ]
    failed_first = sum(1 for _e, _a, status, first in received if first and status >= 500)
    outbox_rows = len(events)
    load_end = os.getloadavg()
    out(f"outbox rows: {outbox_rows} for {len(committed)} committed events")
    out(
        f"receiver: {len(received)} requests, {failed_first} first attempts answered 500, one {options['outage']:g} s outage"
    )
    out(f"delivered {delivered}, lost {lost}, duplicate deliveries {duplicates}")
    out(
        f"commit -> delivery, delivered on the first attempt ({len(latency_first)}): "
        f"p50 {_pct(latency_first, 50):.0f} ms, p95 {_pct(latency_first, 95):.0f} ms, p99 {_pct(latency_first, 99):.0f} ms"
    )
    out(
        f"commit -> delivery, every event incl. retries ({len(latency_all)}): "
        f"p50 {_pct(latency_all, 50):.0f} ms, p95 {_pct(latency_all, 95):.0f} ms, max {max(latency_all or [0]):.0f} ms"
    )
    out(f"baseline: the no-op round trip p50 {floor * 1000:.1f} ms; goal p95 <= 500 ms, lost 0")
    out(f"load average {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} at the end")
    _clean()
    return {
        "bench": "webhooks",
        "events": len(committed),
        "delivered": delivered,
        "lost": lost,
        "p95_ms": round(_pct(latency_first, 95), 1),
        "duplicates": duplicates,
        "p95_all_ms": round(_pct(latency_all, 95), 1),
        "floor_ms": round(floor * 1000, 1),
        "load_avg_start": round(load_start[0], 2),
        "load_avg_end": round(load_end[0], 2),
    }


BENCHMARKS = {"webhooks": (add_arguments, run)}
