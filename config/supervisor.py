"""`python -m config.supervisor`: run web, worker and beat together (what `make run` starts).

Before, `make run` was a shell `wait -n`: the first child to exit (the worker, on a broker
error) stopped the web process and beat with it. Here each child is watched on its own: a
worker or beat that exits is started again (after a short pause that grows while it keeps
dying quickly) and the web process keeps serving meanwhile. Ctrl-C or SIGTERM stops all of
them (SIGTERM, then SIGKILL for one still running after ``--stop-timeout`` seconds). The web
process exiting stops everything: there is nothing left to serve.

Every start, exit and restart is one log line (``supervisor: ...``), so a soak run can count
restarts.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

RESTART_PAUSE_S = 1.0
RESTART_PAUSE_MAX_S = 30.0
# A child that ran this long before dying is restarted at once (its pause resets).
STABLE_AFTER_S = 60.0


@dataclass
class Child:
    name: str
    argv: list[str]
    restart: bool
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    pause: float = RESTART_PAUSE_S
    next_start_at: float | None = None
    exits: list[int] = field(default_factory=list)

    def start(self, env: dict) -> None:
        # Own process group: a Ctrl-C in the terminal reaches the supervisor, which stops the
        # children in order, instead of hitting every process at once.
        self.proc = subprocess.Popen(self.argv, env=env, start_new_session=True)
        self.started_at = time.monotonic()
        self.next_start_at = None
        say(f"started {self.name} (pid {self.proc.pid})")

    def signal(self, sig) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)


def say(text: str) -> None:
    print(f"supervisor: {text}", flush=True)


def children(python: str, *, host: str, port: int, queues: str, concurrency: int) -> list[Child]:
    celery = [python, "-m", "celery", "-A", "config"]
    return [
        Child(
            "worker",
            [*celery, "worker", "-Q", queues, "-l", "warning", "--concurrency", str(concurrency)],
            restart=True,
        ),
        Child(
            "beat", [*celery, "beat", "-l", "warning", "-s", os.path.join("var", "celerybeat-schedule")], restart=True
        ),
        Child("web", [python, "manage.py", "runserver", f"{host}:{port}"], restart=False),
    ]


def supervise(kids: list[Child], *, env: dict, stop_timeout: float, poll_s: float = 0.2) -> int:
    stopping = {"sig": None}

    def on_signal(signum, _frame):
        stopping["sig"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for kid in kids:
        kid.start(env)
    exit_code = 0
    while stopping["sig"] is None:
        time.sleep(poll_s)
        now = time.monotonic()
        for kid in kids:
            if kid.proc is None:
                if kid.next_start_at is not None and now >= kid.next_start_at:
                    kid.restarts += 1
                    kid.start(env)
                    say(f"restarted {kid.name} (restart {kid.restarts})")
                continue
            code = kid.proc.poll()
            if code is None:
                continue
            kid.exits.append(code)
            ran = now - kid.started_at
            kid.proc = None
            if not kid.restart:
                say(f"{kid.name} exited with code {code}; stopping everything")
                stopping["sig"] = signal.SIGTERM
                exit_code = code or 1
                break
            kid.pause = RESTART_PAUSE_S if ran >= STABLE_AFTER_S else min(kid.pause * 2, RESTART_PAUSE_MAX_S)
            kid.next_start_at = now + kid.pause
            say(f"{kid.name} exited with code {code} after {ran:.0f} s; restarting in {kid.pause:.0f} s")
    stop(kids, timeout=stop_timeout)
    return exit_code


def stop(kids: list[Child], *, timeout: float) -> None:
    for kid in kids:
        kid.signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for kid in kids:
        if kid.proc is None:
            continue
        try:
            kid.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{kid.name} still running after {timeout:.0f} s; killing it")
            kid.signal(signal.SIGKILL)
            kid.proc.wait()
    say("stopped web, worker and beat")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--queues", default="marketing,handoff,handoff_sweep,sales,webhooks")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--stop-timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    env = dict(os.environ)
    # SIGTERM stops a worker within its soft-shutdown timeout, re-queuing what it held
    # (config/celery.py sets the same default; set here too for a worker started elsewhere).
    env.setdefault("REMAP_SIGTERM", "SIGQUIT")
    env.setdefault("PYTHONUNBUFFERED", "1")
    kids = children(sys.executable, host=args.host, port=args.port, queues=args.queues, concurrency=args.concurrency)
    return supervise(kids, env=env, stop_timeout=args.stop_timeout)


if __name__ == "__main__":
    sys.exit(main())
