"""`python manage.py bench live --reps 200` (PostgreSQL + Redis + a real worker + Chromium):
new leads reaching the reps' open pages.

What runs: gunicorn with the production settings on a loopback port (as ``bench load``), a
real Celery worker (``marketing,handoff,sales``: scoring, hand-off, e-mail), and one headless
Chromium (``/usr/bin/chromium`` through Playwright) holding ``--reps`` pages, each a rep's
``/calls/`` in its own browser context (own session cookie). A scoring rule worth 1,000 points
per form submit (threshold lowered to 50, restored afterwards) makes every captured lead an
MQL, routed round robin to the reps by one bench queue that comes before every other.

Design, for a 2-core machine:
- One browser, one context, one page per rep on its own host name (``rep007.s3.test``,
  mapped to 127.0.0.1 by ``--host-resolver-rules``), so each page has its own host-only session
  cookie; the hosts fall into ``--renderers`` sites (``s<k>.test``) and ``--process-per-site``
  gives each site one renderer process shared by its pages. (A context per rep, or Chromium's
  default process per tab, costs ~150 MB a page: 50 pages took 7.7 GB, 200 would not fit.)
- No page is throttled as a hidden tab would be: every page is its own headless window, which
  Chromium reports visible (``document.visibilityState`` is checked on every page, and the
  bench stops if one is hidden: ``static/live.js`` polls a hidden page six times less often),
  and background timer throttling / renderer backgrounding are switched off.
- Sessions are written to the database directly (the server's SECRET_KEY is the bench's), so
  200 log-ins do not cost 200 password hashes.
- Capture-to-screen: each page runs a MutationObserver that stamps ``Date.now()`` when a row
  ``tr[data-lead-id]`` first appears; the bench stamps ``time.time()`` just before each capture
  POST (same machine, same clock). Per lead: the stamp in the page of the rep it was assigned
  to minus the POST stamp.
- Idle cost: with every page open and live and nothing arriving, the CPU time (user + system,
  ``/proc``) of the gunicorn master and workers over ``--idle-seconds``, as % of one core.
  The database server's CPU is not in it (it is one indexed query per poll).

Goals: p95 <= 2,000 ms capture-to-screen; idle <= 5 % of one core. The last line is one JSON
object.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import time
import urllib.parse
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import override_settings

from .handoff import bench_sales_rows_delete, start_workers, stop_workers
from .load import _free_port, _load_average, _percentile, _server_env, _start_server

PREFIX = "bench-live-"
QUEUE_NAME = "Bench: live"
FORM_KEY = "bench-live"
RULE_NAME = "Bench: live form submit"
GOAL_P95_MS = 2000.0
GOAL_IDLE_CPU_PCT = 5.0
CHROMIUM = os.environ.get("BATON_CHROMIUM") or "/usr/bin/chromium"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Stamps the first sight of each call-list row (epoch ms, the page's clock = the machine's).
OBSERVER = """
(() => {
  window.__seen = {};
  const stamp = () => {
    const now = Date.now();
    document.querySelectorAll('tr[data-lead-id]').forEach((tr) => {
      const id = tr.dataset.leadId;
      if (!(id in window.__seen)) window.__seen[id] = now;
    });
  };
  const start = () => {
    stamp();
    new MutationObserver(stamp).observe(document.body, { childList: true, subtree: true });
  };
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""


def add_arguments(parser) -> None:
    parser.add_argument("--reps", type=int, default=200, help="reps, each with /calls/ open in Chromium")
    parser.add_argument("--leads", type=int, default=0, help="capture posts (default: one per rep, at most 200)")
    parser.add_argument("--rate", type=float, default=2.0, help="capture posts a second")
    parser.add_argument(
        "--poll-seconds", type=int, default=0, help="the pages' poll period (default LIVE_POLL_SECONDS)"
    )
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="idle window for the CPU measurement")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--web-threads", type=int, default=4, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--renderers", type=int, default=4, help="Chromium renderer processes shared by the pages")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the last lead to show")


# --- data ----------------------------------------------------------------------------------


def _clean() -> None:
    from django.contrib.sessions.models import Session

    from leads.models import CaptureForm, EngagementEvent, ScoringRule

    EngagementEvent.objects.filter(lead__email__startswith=PREFIX).delete()
    bench_sales_rows_delete(prefix=PREFIX, queue_name=QUEUE_NAME)
    ScoringRule.objects.filter(name=RULE_NAME).delete()
    CaptureForm.objects.filter(key=FORM_KEY).delete()
    Session.objects.filter(session_key__startswith="benchlive").delete()


def _setup(*, reps: int, secret_key: str) -> tuple[list, dict, dict]:
    """The reps (each with a session for the server's secret), the queue, the capture form, a
    scoring rule and policy that qualify every capture. Returns (reps, session keys by rep id,
    the policy to restore)."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from config.roles import SALES_REP
    from crm.models import QueueMembership, SalesQueue
    from leads.models import CaptureForm, RuleKind, ScoringPolicy, ScoringRule

    queue = SalesQueue.objects.create(
        name=QUEUE_NAME,
        priority=0,  # ahead of any other queue: every capture of the run is routed here
        sla_minutes=240,
        business_days=[0, 1, 2, 3, 4, 5, 6],
        business_hours_start=datetime.time(0, 0),
        business_hours_end=datetime.time(23, 59),
    )
    User = get_user_model()
    group, _ = Group.objects.get_or_create(name=SALES_REP)
    users = User.objects.bulk_create(
        [
            User(username=f"{PREFIX}rep{i:03d}", email=f"{PREFIX}rep{i:03d}@example.com", password="!bench")
            for i in range(reps)
        ]
    )
    users = list(User.objects.filter(username__startswith=PREFIX).order_by("username"))
    group.user_set.add(*users)
    QueueMembership.objects.bulk_create([QueueMembership(queue=queue, rep=u, capacity=10_000) for u in users])
    CaptureForm.objects.create(key=FORM_KEY, name="Bench: live", consent_text="Bench")
    policy = ScoringPolicy.current()
    saved = {"threshold": policy.threshold, "fit_minimum": policy.fit_minimum}
    ScoringPolicy.objects.filter(pk=policy.pk).update(threshold=min(policy.threshold, 50), fit_minimum=0)
    ScoringRule.objects.create(
        name=RULE_NAME, kind=RuleKind.ENGAGEMENT, event_kind="form_submit", points_per_event=1000, is_active=True
    )
    sessions = {}
    with override_settings(SECRET_KEY=secret_key):  # the session data is signed with it too
        for user in users:
            sessions[user.pk] = _session_for(user, secret_key)
    return users, sessions, saved


def _session_for(user, secret_key: str) -> str:
    """A logged-in session for ``user`` on a server whose SECRET_KEY is ``secret_key`` (what
    ``login()`` stores), written straight to the session table."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.crypto import salted_hmac

    key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
    store = SessionStore()
    store._session_key = f"benchlive{secrets.token_hex(12)}"
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    store["_auth_user_hash"] = salted_hmac(key_salt, user.password, secret=secret_key, algorithm="sha256").hexdigest()
    store.save(must_create=True)
    return store.session_key


def _restore_policy(saved: dict) -> None:
    from leads.models import ScoringPolicy, ScoringRule

    ScoringRule.objects.filter(name=RULE_NAME).delete()
    ScoringPolicy.objects.filter(pk=ScoringPolicy.current().pk).update(**saved)


# --- measuring -----------------------------------------------------------------------------


def _process_tree_cpu_seconds(root_pid: int) -> float:
    """User + system CPU of ``root_pid`` and its children (gunicorn's master and workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def _rep_origin(rep, port: int, sites: int) -> str:
    """``http://rep007.s3.test:<port>``: a host per rep (its own cookie), ``sites`` sites
    (``s<k>.test``), each one renderer process under ``--process-per-site``."""
    index = int(rep.username.removeprefix(PREFIX + "rep"))
    return f"http://rep{index:03d}.s{index % sites}.test:{port}"


def _chromium_memory() -> tuple[float, int]:
    """Resident memory (MB) of every Chromium process under this one (the browser, renderers,
    GPU and utility processes; shared pages counted once per process), and how many are
    renderers."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(entry))
    total, renderers, todo = 0, 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        with contextlib.suppress(OSError):
            if "chrom" not in Path(f"/proc/{pid}/comm").read_text():
                continue
            renderers += b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes()
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024, renderers


def _capture(port: int, n: int) -> tuple[int, float]:
    """One capture POST; returns (lead id, epoch ms just before sending)."""
    from leads.models import Lead

    email = f"{PREFIX}lead{n:05d}-{secrets.token_hex(3)}@capture.example"
    body = urllib.parse.urlencode({"email": email, "first_name": "Vera", "last_name": f"Teixeira {n}"})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent_at = time.time() * 1000
    conn.request(
        "POST",
        f"/capture/{FORM_KEY}/",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Host": "127.0.0.1"},
    )
    status = conn.getresponse().status
    conn.close()
    if status not in (200, 201, 302, 303):
        raise CommandError(f"capture POST answered {status}")
    return Lead.objects.get(email=email).pk, sent_at


def _assigned_reps(lead_ids: list[int]) -> dict[int, int]:
    from crm.models import Assignment

    return dict(
        Assignment.objects.active().filter(lead_id__in=lead_ids, rep__isnull=False).values_list("lead_id", "rep_id")
    )


def run(options, stdout) -> dict:
    if connection.vendor != "postgresql":
        raise CommandError("bench live needs PostgreSQL (DATABASE_URL=postgres://...).")
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        raise CommandError("bench live needs Redis (CELERY_BROKER_URL=redis://...).")
    if not Path(CHROMIUM).exists():
        raise CommandError(f"bench live needs Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    n_reps = int(options["reps"])
    sites = max(1, min(int(options["renderers"]), n_reps))
    n_leads = int(options["leads"]) or min(n_reps, 200)
    poll = int(options["poll_seconds"] or settings.LIVE_POLL_SECONDS)
    started = time.monotonic()
    stdout.write(f"load average before: {_load_average()}")
    _clean()
    secret_key = secrets.token_urlsafe(50)
    reps, sessions, saved_policy = _setup(reps=n_reps, secret_key=secret_key)
    var = Path(settings.VAR_DIR)
    var.mkdir(parents=True, exist_ok=True)
    static_root = var / "bench-live-static"
    port = _free_port()
    env = {
        **_server_env(static_root),
        "SECRET_KEY": secret_key,
        "LIVE_POLL_SECONDS": str(poll),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,.test",
    }
    worker = server = None
    latencies: list[float] = []
    missing, chromium_mb, renderers = 0, 0.0, 0
    try:
        worker = start_workers(
            queues="marketing,handoff,sales", concurrency=2, log_path=var / "bench-live-worker.log", env=env
        )
        with open(var / "bench-live-gunicorn.log", "w") as log:
            server = _start_server(port, int(options["web_workers"]), int(options["web_threads"]), env, log)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=[
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--disable-background-networking",
                        "--disable-background-timer-throttling",
                        "--disable-backgrounding-occluded-windows",
                        "--disable-renderer-backgrounding",
                        "--disable-extensions",
                        "--mute-audio",
                        "--process-per-site",
                        f"--renderer-process-limit={sites}",
                        "--host-resolver-rules=MAP *.test 127.0.0.1",
                    ],
                )
                # One context: each rep's page on its own host name (rep007.s3.test, resolved to
                # 127.0.0.1 by the browser) holds its own host-only session cookie; the pages fall
                # into --renderers sites, one renderer process each (--process-per-site). A
                # context, or a process, per page costs ~150 MB: 200 would not fit.
                context = browser.new_context(viewport={"width": 1000, "height": 700})
                context.add_cookies(
                    [
                        {"name": "sessionid", "value": sessions[rep.pk], "url": _rep_origin(rep, port, sites)}
                        for rep in reps
                    ]
                )
                context.add_init_script(OBSERVER)
                pages = {}
                t_open = time.monotonic()
                for rep in reps:
                    page = context.new_page()
                    page.goto(f"{_rep_origin(rep, port, sites)}/calls/", wait_until="commit")
                    pages[rep.pk] = page
                for page in pages.values():
                    page.wait_for_function("!!document.getElementById('live') && !!window.__seen", timeout=300_000)
                hidden = [pk for pk, page in pages.items() if page.evaluate("document.visibilityState") != "visible"]
                if hidden:
                    raise CommandError(f"{len(hidden)} of {len(pages)} pages are hidden: their polls would be slowed")
                strangers = [page.url for page in pages.values() if "/calls/" not in page.url]
                if strangers:
                    raise CommandError(f"{len(strangers)} pages are not on /calls/ (not logged in?): {strangers[0]}")
                chromium_mb, renderers = _chromium_memory()
                stdout.write(
                    f"{len(pages)} pages open and visible in {time.monotonic() - t_open:.1f} s (one Chromium, "
                    f"{renderers} renderer processes, {chromium_mb:.0f} MB resident; poll every {poll} s)"
                )
                # Idle: every page live, nothing arriving.
                pages[reps[0].pk].wait_for_timeout(poll * 1000 * 2)  # every page past its first poll
                cpu0, t0 = _process_tree_cpu_seconds(server.pid), time.monotonic()
                pages[reps[0].pk].wait_for_timeout(float(options["idle_seconds"]) * 1000)
                cpu1, t1 = _process_tree_cpu_seconds(server.pid), time.monotonic()
                idle_cpu_pct = 100 * (cpu1 - cpu0) / (t1 - t0)
                stdout.write(
                    f"idle: gunicorn used {cpu1 - cpu0:.2f} s CPU in {t1 - t0:.1f} s with {len(pages)} live pages: "
                    f"{idle_cpu_pct:.2f} % of one core (goal <= {GOAL_IDLE_CPU_PCT:g} %)"
                )
                # Captures arriving at a steady rate.
                sent: dict[int, float] = {}
                gap = 1 / float(options["rate"])
                next_at = time.monotonic()
                for n in range(n_leads):
                    delay = next_at - time.monotonic()
                    if delay > 0:
                        pages[reps[0].pk].wait_for_timeout(delay * 1000)
                    lead_id, at = _capture(port, n)
                    sent[lead_id] = at
                    next_at += gap
                stdout.write(f"{n_leads} capture posts sent at {options['rate']:g}/s")
                deadline = time.monotonic() + float(options["timeout"])
                seen: dict[int, float] = {}
                owner: dict[int, int] = {}
                while True:
                    owner = _assigned_reps(list(sent))
                    for lead_id, rep_id in owner.items():
                        if lead_id in seen:
                            continue
                        stamp = pages[rep_id].evaluate("(id) => window.__seen[id] || null", str(lead_id))
                        if stamp is not None:
                            seen[lead_id] = stamp
                    if len(seen) == len(sent) or time.monotonic() > deadline:
                        break
                    pages[reps[0].pk].wait_for_timeout(500)
                latencies = [seen[lead_id] - sent[lead_id] for lead_id in seen]
                missing = len(sent) - len(seen)
                unassigned = len(sent) - len(owner)
                if missing:
                    stdout.write(f"NOT SEEN within {options['timeout']:g} s: {missing} leads ({unassigned} unassigned)")
                browser.close()
    finally:
        if server is not None:
            server.terminate()
            with contextlib.suppress(Exception):
                server.wait(timeout=30)
        if worker is not None:
            stop_workers(worker)
        _restore_policy(saved_policy)
        _clean()
        shutil.rmtree(static_root, ignore_errors=True)
    p50, p95 = _percentile(latencies, 50), _percentile(latencies, 95)
    stdout.write(
        f"capture -> row visible in the rep's page, {len(latencies)} leads: p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
        f"max {max(latencies, default=0):.0f} ms (goal p95 <= {GOAL_P95_MS:g} ms: "
        f"{'met' if latencies and p95 <= GOAL_P95_MS and not missing else 'NOT met'})"
    )
    elapsed = time.monotonic() - started
    stdout.write(f"load average after: {_load_average()}; took {elapsed:.0f} s")
    return {
        "bench": "live",
        "reps": n_reps,
        "leads": n_leads,
        "seen": len(latencies),
        "missing": missing,
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(max(latencies, default=0), 1),
        "idle_cpu_pct": round(idle_cpu_pct, 2),
        "poll_seconds": poll,
        "chromium_mb": round(chromium_mb),
        "renderers": renderers,
        "seconds": round(elapsed, 1),
        "load_avg": _load_average(),
    }


BENCHMARKS = {"live": (add_arguments, run)}
