import uuid
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import ping
from tests.integration.conftest import wait_until


@pytest.mark.redis
def test_a_task_sent_here_is_executed_by_a_real_worker_process_through_redis(celery_worker):
    marker = f"round-trip-{uuid.uuid4().hex}"

    ping.delay(marker)

    wait_until((Path(settings.VAR_DIR) / "pings" / marker).exists, timeout=20, message="the ping")


def test_a_task_crosses_processes_on_the_configured_broker(celery_worker):
    """Runs on whichever broker is configured: the filesystem transport by default."""
    marker = f"fs-{uuid.uuid4().hex}"

    ping.apply_async(args=[marker], queue="sales")

    wait_until((Path(settings.VAR_DIR) / "pings" / marker).exists, timeout=20, message="the ping")


def test_the_deep_health_check_sees_a_worker_answer_from_another_process(client, celery_worker):
    response = client.get("/healthz/?deep=1")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "worker": "ok"}


@pytest.mark.django_db
def test_the_deep_health_check_reports_a_missing_worker(client):
    from tests.integration.conftest import purge_queues

    response = client.get("/healthz/?deep=1")
    purge_queues()

    assert response.status_code == 503
    assert response.json()["worker"] == "unreachable"
