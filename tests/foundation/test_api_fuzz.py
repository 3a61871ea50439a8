"""Property-based testing of every API operation, every method, from the OpenAPI schema
(schemathesis), against the real database of the run (PostgreSQL in CI).

Each operation is called as a role allowed to use it (from the role matrix's table), with a
personal token, on a world of real records: generated path ids that are small non-negative
integers are swapped for the id of a real record (so writes reach the services), the rest
stay as generated (huge integers, NUL bytes, odd unicode). Every answer must be:
- never a 5xx;
- a status code the schema documents, in a documented content type, whose body validates
  against the documented schema (errors included: config/api/schema.py);
- a 400 that names the field (``error.fields`` is not empty), unless the body did not parse.

Bounded: few generated examples per operation (the coverage phase adds the schema's own
boundary values); the whole file runs in about two minutes on a quiet 2-core machine.
Requests go through the WSGI app in the test's thread, so they share the test's transaction.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from integrations.tokens import token_create
from tests.foundation.test_role_matrix import EXPECTED, ROLES, _world

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ALLOWED = ("2xx", "400")  # the table's cells where the role gets past the permission check


def role_for(path: str, method: str) -> str:
    """A role that may use the operation (manager first), so the input is what is tested."""
    row = EXPECTED.get((path, method.upper()))
    if row is None:
        return "manager"
    cells = dict(zip(ROLES, row, strict=True))
    for role in ("manager", "marketer", "rep"):
        if cells[role] in ALLOWED:
            return role
    for role in ("manager", "marketer", "rep"):
        if cells[role] == "404":
            return role
    return "manager"


@pytest.fixture
def same_connection():
    """Django's test client does the same: the WSGI handler would otherwise close the test's
    connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, make_user, same_connection):
    users = {
        "anonymous": None,
        "rep": make_user("Sales rep", username="rep_a"),
        "other_rep": make_user("Sales rep", username="rep_b"),
        "marketer": make_user("Marketing", username="marketer", is_staff=True),
        "manager": make_user("Sales manager", username="manager", is_staff=True),
    }
    ids = _world(users)
    keys = {role: token_create(user=user, name="fuzz")[1] for role, user in users.items() if user is not None}
    return {"ids": ids, "keys": keys}


def use_real_records(case, ids: dict) -> None:
    """Swap small non-negative generated ids for real records' ids (see the module docstring)."""
    for name, value in list((case.path_parameters or {}).items()):
        real = ids.get(case.path.split("{id}")[0]) if name == "id" else ids.get(name)
        small_id = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1000 and value % 3 != 2
        some_text = name in ("email", "key", "name") and isinstance(value, str) and len(value) % 3 == 0
        if real is not None and (small_id or some_text):
            case.path_parameters[name] = real


def refused_field_is_named(response) -> str | None:
    if response.status_code != 400:
        return None
    try:
        error = json.loads(response.content)["error"]
    except (ValueError, KeyError, TypeError):
        return "a 400 not in the API's error shape"
    if error.get("code") == "parse_error":  # a body that is not JSON / form data has no fields
        return None
    if not error.get("fields"):
        return f"a 400 that names no field: {response.content[:200]!r}"
    return None


@schema.parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_says(case, world):
    use_real_records(case, world["ids"])
    role = role_for(case.operation.path, case.operation.method)

    response = case.call(headers={"Authorization": f"Bearer {world['keys'][role]}"})

    case.validate_response(response, checks=CHECKS)
    problem = refused_field_is_named(response)
    assert problem is None, f"{case.method} {unquote(response.request.url)} as {role}: {problem}"
