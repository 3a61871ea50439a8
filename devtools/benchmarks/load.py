"""`python manage.py bench load --seconds 60` (PostgreSQL): the whole stack under load.

Starts gunicorn with the production settings on a loopback port (a throwaway SECRET_KEY, no
HTTPS redirect, collected static files), logs a rep in over HTTP, and drives ``--clients``
concurrent clients (threads with keep-alive connections, stdlib ``http.client``) over the
rep's call list, the lead page, log-call posts, capture-form posts and the search, in the
weights of ``ROUTES``. Before the load it measures each route with one client (the baseline
of the same run). Prints requests/s, p50/p95/p99 and errors per route, and the load average;
the last line is one JSON object. Goals: 0 errors, 0 5xx, call list p95 <= 100 ms.

The capture throttle (per client IP) is raised for the run: every client is 127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from config.roles import SALES_REP
from crm.models import Assignment, AssignmentStatus, SalesQueue
from leads.models import CaptureForm, Lead, LifecycleStage

EMAIL_PREFIX = "loadbench-"
REP = "bench-load-rep"
PASSWORD = "bench-load-" + "pw"
QUEUE_NAME = "Bench: load"
FORM_KEY = "bench-load"
GOAL_CALL_LIST_P95_MS = 100.0
MAX_ATTEMPTS = 1_000_000
# route -> weight in the mix (a rep mostly reads the list and leads; posts are rarer)
ROUTES = {"call_list": 4, "lead_page": 3, "log_call": 1, "capture": 1, "search": 1}
SEARCH_TERMS = ("acme", "loadbench", "müller", "+49 30", "head of")


def add_arguments(parser):
    parser.add_argument("--seconds", type=float, default=60.0, help="Measured load, after a 3 s warm-up.")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default 2 x CPUs + 1).")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker.")
    parser.add_argument("--leads", type=int, default=300, help="Leads on the rep's call list.")
    parser.add_argument("--port", type=int, default=0, help="Loopback port (default: a free one).")


def _percentile(samples: list[float], pct: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- data ----------------------------------------------------------------------------------


def _seed(n_leads: int) -> tuple[int, list[int]]:
    """The rep, a queue, ``n_leads`` handed-off leads with open assignments, the capture form.
    Removes the previous run's rows first (leads by e-mail prefix, cascading to their calls)."""
    User = get_user_model()
    with transaction.atomic():
        Lead.objects.filter(email__startswith=EMAIL_PREFIX).delete()
        Lead.objects.filter(email__startswith="capture-" + EMAIL_PREFIX).delete()
        rep, _ = User.objects.get_or_create(username=REP, defaults={"email": f"{REP}@baton.example"})
        rep.set_password(PASSWORD)
        rep.is_active = True
        rep.save()
        rep.groups.add(Group.objects.get(name=SALES_REP))
        # Every log-call post is an unanswered call; after the queue's max_attempts of them a
        # lead goes back to marketing (no contact) and leaves the rep's list, so the generator's
        # later requests on it were 404s the workload caused. The bench queue's cadence is set
        # out of reach, so every lead stays the rep's and any error is a real one.
        queue, _ = SalesQueue.objects.update_or_create(
            name=QUEUE_NAME, defaults={"priority": 999, "max_attempts": MAX_ATTEMPTS}
        )
        CaptureForm.objects.get_or_create(key=FORM_KEY, defaults={"name": "Bench: load", "consent_text": "Bench"})
        now = timezone.now()
        rng = random.Random(17)
        leads = Lead.objects.bulk_create(
            Lead(
                email=f"{EMAIL_PREFIX}{i}@acme{i % 40}.example",
                first_name=rng.choice(("Ana", "Bo", "Cy", "Dee", "Jürgen", "Mia")),
                last_name=rng.choice(("Müller", "Smith", "Okafor", "Silva", "Nguyen")),
                company=f"Acme {i % 40}",
                phone=f"+49 30 {5550000 + i}",
                title="Head of Operations",
                timezone="UTC",
                stage=LifecycleStage.HANDED_OFF,
                owner=rep,
                score=rng.uniform(40, 95),
                created_at=now,
            )
            for i in range(n_leads)
        )
        Assignment.objects.bulk_create(
            Assignment(
                lead=lead,
                queue=queue,
                rep=rep,
                status=AssignmentStatus.ASSIGNED,
                handed_off_at=now,
                assigned_at=now,
                sla_due_at=now + timezone.timedelta(hours=4),
            )
            for lead in leads
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return rep.pk, [lead.pk for lead in leads]


# --- the server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(static_root: Path) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        STATIC_ROOT=str(static_root),
        CAPTURE_THROTTLE_RATE="1000000/min",
        CAPTURE_FORM_THROTTLE_RATE="1000000/min",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    return env


def _start_server(port: int, workers: int, threads: int, env: dict, log) -> subprocess.Popen:
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        env=env,
        check=True,
        cwd=settings.BASE_DIR,
    )
    command = [
        str(Path(python).with_name("gunicorn")),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"gunicorn exited with {process.returncode}; see {log.name}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz/")
            if conn.getresponse().status < 500:
                conn.close()
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise CommandError("gunicorn did not answer /healthz/ within 60 s")


# --- the clients ---------------------------------------------------------------------------


class Client:
    """One keep-alive connection with the rep's cookies."""

    def __init__(self, port: int, cookies: dict[str, str]):
        self.port = port
        self.cookies = dict(cookies)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Host": "127.0.0.1"}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                content = response.read()
                for header, value in response.getheaders():
                    if header.lower() == "set-cookie":
                        name, _, rest = value.partition("=")
                        self.cookies[name.strip()] = rest.split(";", 1)[0]
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return response.status, content
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _login(port: int) -> dict[str, str]:
    client = Client(port, {})
    status, page = client.request("GET", "/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or token is None:
        raise CommandError(f"login page answered {status}")
    status, _ = client.request(
        "POST",
        "/accounts/login/",
        {"username": REP, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1).decode(), "next": "/calls/"},
    )
    if status != 302 or "sessionid" not in client.cookies:
        raise CommandError(f"logging in as {REP} answered {status}")
    return client.cookies


def _csrf_token(client: Client, lead_id: int) -> str:
    status, page = client.request("GET", f"/calls/leads/{lead_id}/")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or match is None:
        raise CommandError(f"the lead page answered {status}")
    return match.group(1).decode()


def _one_request(client: Client, route: str, rng: random.Random, lead_ids: list[int], token: str, n: int):
    if route == "call_list":
        return client.request("GET", "/calls/")
    if route == "lead_page":
        return client.request("GET", f"/calls/leads/{rng.choice(lead_ids)}/")
    if route == "log_call":
        body = {"outcome": "no_answer", "duration_minutes": "0.5", "notes": "bench", "csrfmiddlewaretoken": token}
        for key, value in (
            ("TOTAL_FORMS", "0"),
            ("INITIAL_FORMS", "0"),
            ("MIN_NUM_FORMS", "0"),
            ("MAX_NUM_FORMS", "5"),
        ):
            body[f"objections-{key}"] = value
        return client.request("POST", f"/calls/leads/{rng.choice(lead_ids)}/log/", body)
    if route == "capture":
        return client.request(
            "POST",
            f"/capture/{FORM_KEY}/",
            {"email": f"capture-{EMAIL_PREFIX}{n}-{rng.randrange(10**9)}@beta.example", "first_name": "Load"},
        )
    if route == "search":
        return client.request("GET", "/search/?" + urllib.parse.urlencode({"q": rng.choice(SEARCH_TERMS)}))
    raise ValueError(route)


OK_STATUS = {"call_list": {200}, "lead_page": {200}, "log_call": {302}, "capture": {201, 302}, "search": {200}}


def _drive(port, cookies, lead_ids, *, clients: int, seconds: float, warmup: float, seed: int):
    """``clients`` threads, each on its own keep-alive connection, picking routes by weight
    until the time is up. Returns {route: [latencies ms]}, {route: errors}, {route: 5xx}."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    server_errors: dict[str, int] = defaultdict(int)
    examples: dict[str, str] = {}
    lock = threading.Lock()
    start_at = time.monotonic() + 0.5
    measure_from = start_at + warmup
    stop_at = measure_from + seconds
    names, weights = list(ROUTES), list(ROUTES.values())

    def worker(index: int):
        rng = random.Random(seed * 1000 + index)
        client = Client(port, cookies)
        token = _csrf_token(client, lead_ids[index % len(lead_ids)])
        local_lat, local_err, local_5xx, n = defaultdict(list), defaultdict(int), defaultdict(int), 0
        while time.monotonic() < start_at:
            time.sleep(0.01)
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            route = rng.choices(names, weights)[0]
            n += 1
            t0 = time.perf_counter()
            try:
                status, _ = _one_request(client, route, rng, lead_ids, token, index * 10**7 + n)
            except (OSError, http.client.HTTPException) as exc:
                status = f"{type(exc).__name__}"
            elapsed = (time.perf_counter() - t0) * 1000
            if now < measure_from:
                continue
            local_lat[route].append(elapsed)
            if status not in OK_STATUS[route]:
                local_err[route] += 1
                if isinstance(status, int) and status >= 500:
                    local_5xx[route] += 1
                with lock:
                    examples.setdefault(route, str(status))
        with lock:
            for route, values in local_lat.items():
                latencies[route].extend(values)
            for route, count in local_err.items():
                errors[route] += count
            for route, count in local_5xx.items():
                server_errors[route] += count

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + warmup + 120)
    return latencies, errors, server_errors, examples


def _baseline(port, cookies, lead_ids, per_route: int = 15) -> dict[str, float]:
    """p50 of each route with one client and nothing else running (same server, same data)."""
    rng = random.Random(3)
    client = Client(port, cookies)
    token = _csrf_token(client, lead_ids[0])
    result = {}
    for route in ROUTES:
        samples = []
        for n in range(per_route):
            t0 = time.perf_counter()
            _one_request(client, route, rng, lead_ids, token, 9 * 10**8 + n)
            samples.append((time.perf_counter() - t0) * 1000)
        result[route] = round(_percentile(samples, 50), 1)
    return result


def run(options, stdout) -> dict:
    if connection.vendor != "postgresql":
        raise CommandError("bench load needs PostgreSQL (DATABASE_URL=postgres://...).")
    seconds, clients = float(options["seconds"]), int(options["clients"])
    workers = options["workers"] or 2 * (os.cpu_count() or 1) + 1
    port = options["port"] or _free_port()
    stdout.write(f"load average before: {_load_average()}")
    _rep_id, lead_ids = _seed(options["leads"])
    stdout.write(f"seeded: rep {REP} with {len(lead_ids)} handed-off leads on the call list")
    var = Path(settings.VAR_DIR)
    static_root = var / "bench-load-static"
    log_path = var / "bench-load-gunicorn.log"
    var.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        process = _start_server(port, workers, options["threads"], _server_env(static_root), log)
        try:
            cookies = _login(port)
            baseline = _baseline(port, cookies, lead_ids)
            stdout.write(
                f"gunicorn: production settings, 127.0.0.1:{port}, {workers} workers x {options['threads']} threads"
            )
            stdout.write("baseline (1 client, p50 ms): " + ", ".join(f"{k} {v}" for k, v in baseline.items()))
            load_during = []
            sampler_stop = threading.Event()

            def sample():
                while not sampler_stop.wait(5):
                    load_during.append(os.getloadavg()[0])

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            generator_before, server_before = _cpu(resource.RUSAGE_SELF), _tree_cpu(process.pid)
            latencies, errors, server_errors, examples = _drive(
                port, cookies, lead_ids, clients=clients, seconds=seconds, warmup=3.0, seed=11
            )
            generator_cpu = _cpu(resource.RUSAGE_SELF) - generator_before
            server_cpu = _tree_cpu(process.pid) - server_before
            sampler_stop.set()
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    shutil.rmtree(static_root, ignore_errors=True)
    routes = {}
    stdout.write(f"{clients} clients for {seconds:g} s:")
    stdout.write(
        f"{'route':<10} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6} {'5xx':>4}"
    )
    for route in ROUTES:
        samples = latencies.get(route, [])
        routes[route] = {
            "requests": len(samples),
            "rps": round(len(samples) / seconds, 1),
            "p50_ms": round(_percentile(samples, 50), 1),
            "p95_ms": round(_percentile(samples, 95), 1),
            "p99_ms": round(_percentile(samples, 99), 1),
            "errors": errors.get(route, 0),
            "5xx": server_errors.get(route, 0),
            "baseline_p50_ms": baseline[route],
        }
        r = routes[route]
        stdout.write(
            f"{route:<10} {r['requests']:>8} {r['rps']:>7} {r['p50_ms']:>7} {r['p95_ms']:>7} {r['p99_ms']:>7} "
            f"{r['errors']:>6} {r['5xx']:>4}" + (f"  (e.g. {examples[route]})" if route in examples else "")
        )
    every = [x for values in latencies.values() for x in values]
    total_errors = sum(errors.values())
    total_5xx = sum(server_errors.values())
    call_list_p95 = routes["call_list"]["p95_ms"]
    stdout.write(
        f"all: {len(every)} requests, {len(every) / seconds:.1f} req/s, p95 {_percentile(every, 95):.1f} ms; "
        f"errors {total_errors}, 5xx {total_5xx}; call list p95 {call_list_p95} ms "
        f"(goal <= {GOAL_CALL_LIST_P95_MS:g}: {'met' if call_list_p95 <= GOAL_CALL_LIST_P95_MS else 'NOT met'})"
    )
    cpu = _cpu_budget(requests=len(every), clients=clients, server_cpu=server_cpu, generator_cpu=generator_cpu)
    stdout.write(
        f"CPU during the load: gunicorn {server_cpu:.1f} s, generator {generator_cpu:.1f} s; "
        f"per request {cpu['server_ms_per_request']} ms server + {cpu['generator_ms_per_request']} ms generator, "
        f"so {os.cpu_count()} CPUs serve at most ~{cpu['max_rps']} req/s and {clients} clients without pauses "
        f"wait at least ~{cpu['min_mean_latency_ms']} ms on average (Little's law)"
    )
    peak = max(load_during) if load_during else os.getloadavg()[0]
    stdout.write(
        f"load average after: {_load_average()} (1-min peak during the run {peak:.2f}); gunicorn log {log_path}"
    )
    return {
        "bench": "load",
        "routes": routes,
        "errors": total_errors,
        "5xx": total_5xx,
        "p95_ms": round(_percentile(every, 95), 1),
        "call_list_p95_ms": call_list_p95,
        "rps": round(len(every) / seconds, 1),
        "clients": clients,
        "seconds": seconds,
        "workers": workers,
        "load_avg": _load_average(),
        "cpu": cpu,
    }


def _tree_cpu(pid: int) -> float:
    """CPU seconds so far of ``pid`` and its children (gunicorn's master and workers), from
    /proc (Linux); PostgreSQL's backends are not counted."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state ppid ... utime (14th field overall) stime (15th)
        if int(entry) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _cpu(who) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _cpu_budget(*, requests: int, clients: int, server_cpu: float, generator_cpu: float) -> dict:
    """Where the CPU went and what it allows (CPU of the warm-up included, its requests not, so
    per-request figures are slightly high). A closed loop of
    ``clients`` with no pauses keeps every client waiting: mean latency = clients / throughput,
    and throughput is at most CPUs / CPU per request."""
    if not requests:
        return dict.fromkeys(
            ("server_s", "generator_s", "server_ms_per_request", "generator_ms_per_request", "generator_share")
            + ("max_rps", "min_mean_latency_ms")
        )
    per = (server_cpu + generator_cpu) / requests
    max_rps = (os.cpu_count() or 1) / per if per else None
    return {
        "server_s": round(server_cpu, 1),
        "generator_s": round(generator_cpu, 1),
        "server_ms_per_request": round(1000 * server_cpu / requests, 1),
        "generator_ms_per_request": round(1000 * generator_cpu / requests, 1),
        "generator_share": round(generator_cpu / (server_cpu + generator_cpu), 2)
        if server_cpu + generator_cpu
        else None,
        "max_rps": round(max_rps, 1) if max_rps else None,
        "min_mean_latency_ms": round(1000 * clients / max_rps, 1) if max_rps else None,
    }


BENCHMARKS = {"load": (add_arguments, run)}
