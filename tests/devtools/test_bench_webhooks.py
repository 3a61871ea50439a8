"""``bench webhooks`` at a tiny scale: real workers, the failing receiver, every event counted."""

import io
import json

import pytest
from django.core.management import call_command

from tests.integration import conftest as integration


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_webhooks_bench_delivers_every_event_despite_failures_and_an_outage(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", integration.test_database_url())  # the workers use the test database
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.test")
    out = io.StringIO()

    call_command(
        "bench",
        "webhooks",
        "--events",
        "40",
        "--rate",
        "40",
        "--outage",
        "1",
        "--workers",
        "2",
        "--timeout",
        "120",
        stdout=out,
    )

    lines = out.getvalue().strip().splitlines()
    result = json.loads(lines[-1])
    assert list(result)[:5] == ["bench", "events", "delivered", "lost", "p95_ms"]
    assert (result["bench"], result["events"], result["delivered"], result["lost"]) == ("webhooks", 40, 40, 0)
    assert result["duplicates"] == 0
    assert any("first attempts answered 500" in line for line in lines)
    assert any(line.startswith("machine:") and "load average" in line for line in lines)
