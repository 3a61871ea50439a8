"""Issue 21 item 1: `make run`'s supervisor keeps the web process up when the worker dies,
restarts the worker, and stops everything on SIGTERM. Real child processes."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _run_supervisor(tmp_path, worker_code: str, web_code: str, *, seconds: float):
    script = tmp_path / "sup.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            from config import supervisor
            supervisor.RESTART_PAUSE_S = 0.2
            kids = [
                supervisor.Child("worker", [sys.executable, "-c", {worker_code!r}], restart=True),
                supervisor.Child("web", [sys.executable, "-c", {web_code!r}], restart=False),
            ]
            sys.exit(supervisor.supervise(kids, env=dict(__import__("os").environ), stop_timeout=3))
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(seconds)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_dying_worker_is_restarted_and_the_web_process_keeps_running(tmp_path):
    pids = tmp_path / "web.pid"
    web = f"import os, time; open({str(pids)!r}, 'a').write(str(os.getpid()) + '\\n'); time.sleep(120)"
    worker = "import time; time.sleep(0.3); raise SystemExit(3)"

    code, out = _run_supervisor(tmp_path, worker, web, seconds=8)

    assert out.count("restarted worker") >= 2, out
    assert "worker exited with code 3" in out
    assert len(pids.read_text().split()) == 1, "the web process was started once and never stopped meanwhile"
    assert "stopped web, worker and beat" in out
    assert code == 0
    assert not _alive(int(pids.read_text().split()[0]))


def test_a_child_that_ignores_sigterm_is_killed_after_the_stop_timeout(tmp_path):
    pids = tmp_path / "web.pid"
    web = (
        "import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        f"open({str(pids)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    )
    code, out = _run_supervisor(tmp_path, "import time; time.sleep(120)", web, seconds=4)

    assert "web still running after 3 s; killing it" in out, out
    assert not _alive(int(pids.read_text()))


def test_when_the_web_process_exits_everything_stops(tmp_path):
    code, out = _run_supervisor(
        tmp_path, "import time; time.sleep(120)", "import time; time.sleep(1); raise SystemExit(2)", seconds=6
    )
    assert "web exited with code 2; stopping everything" in out, out
    assert code == 2
