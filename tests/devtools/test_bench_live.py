"""``bench live`` at a tiny scale: gunicorn, a real worker, Chromium; every captured lead shows
up in its rep's open page, and the last line carries the figures."""

import io
import json
import threading

import pytest
from django.core.management import call_command
from django.db import connections

from tests.integration import conftest as integration


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_live_bench_sees_every_captured_lead_in_its_reps_page(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", integration.test_database_url())  # server and worker use the test database
    out = io.StringIO()
    failure = []

    def bench() -> None:
        # Its own thread: after the browser tests pytest-playwright leaves an asyncio loop
        # running in this one, and Playwright's sync API refuses to start inside a loop.
        try:
            call_command(
                "bench",
                "live",
                *("--reps", "3", "--leads", "3", "--poll-seconds", "1", "--idle-seconds", "2", "--timeout", "60"),
                stdout=out,
            )
        except BaseException as error:  # re-raised in the test's thread below
            failure.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=bench)
    thread.start()
    thread.join(timeout=600)
    assert not thread.is_alive(), "bench live did not finish in 10 minutes"
    if failure:
        raise failure[0]

    lines = out.getvalue().strip().splitlines()
    result = json.loads(lines[-1])
    assert list(result)[:6] == ["bench", "reps", "leads", "seen", "missing", "p50_ms"]
    assert {"p95_ms", "idle_cpu_pct"} <= set(result)
    assert (result["bench"], result["reps"], result["leads"], result["seen"], result["missing"]) == ("live", 3, 3, 3, 0)
    assert 0 < result["p50_ms"] <= result["p95_ms"] and result["idle_cpu_pct"] >= 0
    assert any("pages open and visible" in line for line in lines)
    assert any(line.startswith("load average before:") for line in lines)
