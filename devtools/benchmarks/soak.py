"""`python manage.py bench soak --minutes N`: `make run`'s embedded default, left running.

Starts what `make run` starts (``config/supervisor.py``: web, worker, beat) on a fresh
embedded default in a temporary folder (SQLite, the filesystem broker of
``config/broker.py``), then for ``--minutes`` alternates a busy spell (``--rate`` capture
posts a second to ``/capture/<key>/`` for ``--busy`` seconds, each creating a lead that is
scored by the worker) with an idle one (``--idle`` seconds, nothing sent: the state in which
the old transport died). Every cycle it also sends ``--pings`` ``config.ping`` tasks through
the broker and checks ``/healthz/``.

At the end it waits for the queues to drain and reports: pings sent and lost (never
executed), capture posts sent and failed, leads created vs scored, worker/beat restarts,
web health-check failures, unreadable message files set aside, and the load average. The
last line is one JSON object. Not a CI test: run it for hours to prove the embedded default
holds (`bench soak --minutes 240`); 20 minutes is a quick check.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FORM_KEY = "soak"


def add_arguments(parser) -> None:
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to run (default 30)")
    parser.add_argument("--rate", type=float, default=2.0, help="capture posts a second while busy (default 2)")
    parser.add_argument("--busy", type=float, default=30.0, help="seconds of posting per cycle (default 30)")
    parser.add_argument("--idle", type=float, default=90.0, help="seconds of silence per cycle (default 90)")
    parser.add_argument("--pings", type=int, default=20, help="config.ping tasks sent per cycle (default 20)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, database)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(var_dir: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        BATON_VAR_DIR=str(var_dir),
        CELERY_BROKER_URL="filesystem://",
        CAPTURE_THROTTLE_RATE="100000/min",
        CAPTURE_FORM_THROTTLE_RATE="100000/min",
        BATON_BASE_URL=f"http://127.0.0.1:{port}",
        PYTHONUNBUFFERED="1",
    )
    return env


def _manage(env: dict, *args: str, code: str | None = None) -> str:
    argv = [sys.executable, "manage.py", *args]
    if code is not None:
        argv += ["-c", code]
    return subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


SEND_PINGS = """
from config.celery import ping
for marker in {markers!r}:
    ping.apply_async(args=[marker], queue="sales")
"""


def _post(url: str, email: str) -> bool:
    data = urllib.parse.urlencode({"email": email, "first_name": "Soak", "company": "Soak Ltd"}).encode()
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/json"})  # noqa: S310 - our own http://127.0.0.1
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status in (200, 201)
    except (urllib.error.URLError, OSError):
        return False


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz/", timeout=10) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(options, stdout) -> dict:
    minutes, rate = options["minutes"], options["rate"]
    tmp = Path(tempfile.mkdtemp(prefix="baton-soak-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(tmp, port)
    stdout.write(f"soak: embedded default in {tmp}, web on {base}; load average {_load()}")
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(
        env,
        "shell",
        code=f"from leads.models import CaptureForm; CaptureForm.objects.get_or_create(key={FORM_KEY!r}, defaults={{'name': 'Soak'}})",
    )
    log_path = tmp / "supervisor.log"
    log = open(log_path, "w")  # noqa: SIM115 - the supervisor's output for the whole run
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "config.supervisor", "--port", str(port), "--concurrency", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not _healthy(base) and time.monotonic() < deadline:
        time.sleep(1)

    sent_pings: list[str] = []
    posts = failed_posts = health_failures = cycles = 0
    started = time.monotonic()
    end = started + minutes * 60
    try:
        while time.monotonic() < end:
            cycles += 1
            markers = [f"soak-{uuid.uuid4().hex}" for _ in range(options["pings"])]
            threading.Thread(
                target=_manage, args=(env, "shell"), kwargs={"code": SEND_PINGS.format(markers=markers)}, daemon=True
            ).start()
            sent_pings += markers
            busy_until = min(end, time.monotonic() + options["busy"])
            while time.monotonic() < busy_until:
                posts += 1
                if not _post(f"{base}/capture/{FORM_KEY}/", f"soak-{uuid.uuid4().hex[:12]}@soak.example"):
                    failed_posts += 1
                time.sleep(1 / rate)
            if not _healthy(base):
                health_failures += 1
            idle_until = min(end, time.monotonic() + options["idle"])
            while time.monotonic() < idle_until:
                time.sleep(min(5.0, max(0.0, idle_until - time.monotonic())))
            if supervisor.poll() is not None:
                stdout.write(f"soak: the supervisor exited with code {supervisor.returncode}")
                break
            elapsed = (time.monotonic() - started) / 60
            stdout.write(
                f"soak: {elapsed:5.1f} min, cycle {cycles}: {posts} posts ({failed_posts} failed), "
                f"{len(sent_pings)} pings sent; load average {_load()}"
            )
        # Let the worker drain what is queued.
        pings = tmp / "pings"
        drain_until = time.monotonic() + 120
        while time.monotonic() < drain_until:
            if all((pings / m).exists() for m in sent_pings):
                break
            time.sleep(2)
        supervisor_alive = supervisor.poll() is None
        web_alive = _healthy(base)
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGTERM)
            try:
                supervisor.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(supervisor.pid, signal.SIGKILL)
        log.close()

    lost = sum(1 for m in sent_pings if not (tmp / "pings" / m).exists())
    text = log_path.read_text(errors="replace")
    leads_created = int(
        _manage(
            env,
            "shell",
            code="from leads.models import Lead; print(Lead.objects.filter(email__startswith='soak-').count())",
        ).split()[-1]
    )
    bad_files = len(os.listdir(tmp / "broker" / "bad")) if (tmp / "broker" / "bad").exists() else 0
    result = {
        "bench": "soak",
        "minutes": round((time.monotonic() - started) / 60, 1),
        "cycles": cycles,
        "pings_sent": len(sent_pings),
        "lost_messages": lost,
        "capture_posts": posts,
        "capture_posts_failed": failed_posts,
        "leads_created": leads_created,
        "worker_restarts": text.count("restarted worker"),
        "beat_restarts": text.count("restarted beat"),
        "unrecoverable_errors": text.count("Unrecoverable error"),
        "unreadable_message_files": bad_files,
        "health_check_failures": health_failures,
        "supervisor_alive_at_end": supervisor_alive,
        "web_alive_at_end": web_alive,
        "load_average": _load(),
        "folder": str(tmp),
    }
    stdout.write(
        f"soak: {result['minutes']} min, {cycles} cycles; pings {len(sent_pings)} sent, {lost} lost; "
        f"captures {posts} ({failed_posts} failed), {leads_created} leads; restarts worker "
        f"{result['worker_restarts']}, beat {result['beat_restarts']}; unrecoverable errors "
        f"{result['unrecoverable_errors']}; load average {result['load_average']}"
    )
    if not options.get("keep"):
        result["folder"] = ""
        subprocess.run(["rm", "-rf", str(tmp)], check=False)
    return result


BENCHMARKS = {"soak": (add_arguments, run)}
