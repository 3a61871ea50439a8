"""Root fixtures: roles, API clients, and the gate for tests that need real services.

Tests marked ``postgres`` or ``redis`` prove things only those services can (row locks,
concurrency, a real broker). Without the service they are skipped with the reason; with
BATON_REQUIRE_SERVICES=1 (set by CI) a missing service makes them fail instead.
"""

import os

import pytest
from django.conf import settings

REQUIRE_SERVICES = os.environ.get("BATON_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def _uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _uses_redis() -> bool:
    return settings.CELERY_BROKER_URL.startswith("redis")


def pytest_runtest_setup(item):
    missing = []
    if item.get_closest_marker("postgres") and not _uses_postgres():
        missing.append("PostgreSQL (set DATABASE_URL=postgres://...)")
    if item.get_closest_marker("redis") and not _uses_redis():
        missing.append("Redis (set CELERY_BROKER_URL=redis://...)")
    if missing:
        message = "needs " + " and ".join(missing)
        if REQUIRE_SERVICES:
            pytest.fail(f"BATON_REQUIRE_SERVICES is set but this test {message}", pytrace=False)
        pytest.skip(message)


def pytest_sessionfinish(session, exitstatus):
    """Under BATON_REQUIRE_SERVICES (CI) a skipped test of any kind fails the run: CI must prove
    everything, so nothing may be skipped silently."""
    if not REQUIRE_SERVICES:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"BATON_REQUIRE_SERVICES is set and {len(skipped)} test(s) were skipped; failing the run.", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def make_user(db):
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    def make(role: str | None = None, **kwargs):
        user = UserFactory(**kwargs)
        if role:
            if not Group.objects.filter(name=role).exists():
                # A transactional test before this one flushed the tables the data migration
                # filled; put the groups back exactly as the migration makes them.
                from django.apps import apps

                from config.roles import sync_role_groups

                sync_role_groups(apps)
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def rep(make_user):
    return make_user("Sales rep", username="rep_a")


@pytest.fixture
def other_rep(make_user):
    return make_user("Sales rep", username="rep_b")


@pytest.fixture
def marketer(make_user):
    return make_user("Marketing", username="marketer", is_staff=True)


@pytest.fixture
def manager(make_user):
    return make_user("Sales manager", username="manager", is_staff=True)


@pytest.fixture
def count_queries(db):
    """Run a callable and return how many SQL queries it issued."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def run(fn) -> int:
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return len(ctx.captured_queries)

    return run


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_for(client):
    """A logged-in Django test client for a given user."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_for():
    from rest_framework.test import APIClient

    def login(user):
        api = APIClient()
        api.force_authenticate(user)
        return api

    return login
