"""Property-based fuzzing of every read endpoint from the OpenAPI schema (schemathesis).

Whatever a client puts in path and query parameters (NUL bytes, huge integers, odd unicode,
wrong types), the API answers with a client error or success, never a 500. Requests go
through Django's test client so they run inside the test's transaction.
"""

from urllib.parse import quote

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from tests.leads.factories import LeadFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def manager_client(db, make_user):
    user = make_user("Sales manager", username="fuzz-manager", is_staff=True)
    LeadFactory()
    client = APIClient()
    client.force_authenticate(user)
    return client


def concrete_path(case) -> str:
    path = case.path
    for name, value in (case.path_parameters or {}).items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


@schema.include(method="GET").parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_read_endpoint_answers_a_500_to_any_input(case, manager_client):
    path = concrete_path(case)

    response = manager_client.get(path, data=case.query or {})

    assert response.status_code < 500, f"GET {path} {case.query} -> {response.status_code}"
