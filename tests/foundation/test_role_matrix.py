"""Every API route and method, as every role, with the outcome expected (one table).

The routes come from the OpenAPI schema: a route or method the table does not list fails
``test_every_route_in_the_schema_has_a_row`` (add its row when you add the route). Each cell is
the status class one request gets on fresh data, where the records in the path belong to
``rep``: ``2xx``, ``400`` (passed the permission check, input refused), ``401``, ``403``,
``404`` (the row is not visible to this user). A write sends a valid body: the operation's
first request example from the schema, its ids swapped for the world's records (``BODY_IDS``),
so a ``400`` cannot hide a ``403``; the few ``400`` cells left are refusals of the records'
state, named in ``STATE_REFUSALS``. Each request runs in a savepoint that is rolled back, so
no cell depends on another.
"""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from integrations.tokens import token_create
from leads.models import CaptureForm, LifecycleStage
from leads.rule_sets import rule_set_save, rule_set_snapshot
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory, CollateralFactory, CustomerFeedbackFactory
from tests.crm.factories import (
    AccountFactory,
    AssignmentFactory,
    CallFactory,
    ContactFactory,
    DealFactory,
    ObjectionNoteFactory,
    SalesQueueFactory,
)
from tests.leads.factories import LeadFactory, SegmentFactory
from tests.learning.factories import LearnedModelFactory

ROLES = ("anonymous", "rep", "other_rep", "marketer", "manager")
A, R, F, D, N = "2xx", "400", "403", "401", "404"

# route, method: anonymous, rep (owns the records), other rep, marketer, manager
EXPECTED: dict[tuple[str, str], tuple[str, str, str, str, str]] = {
    ("/api/accounts/", "GET"): (D, A, A, F, A),
    ("/api/accounts/", "POST"): (D, A, A, F, A),
    ("/api/accounts/{id}/", "GET"): (D, A, N, F, A),
    ("/api/accounts/{id}/", "PATCH"): (D, A, N, F, A),
    ("/api/assignments/", "GET"): (D, A, A, A, A),
    ("/api/assignments/{id}/", "GET"): (D, A, N, N, A),
    ("/api/assignments/{id}/accept/", "POST"): (D, A, N, N, A),
    ("/api/assignments/{id}/reassign/", "POST"): (D, F, N, N, A),
    ("/api/assignments/{id}/reject/", "POST"): (D, A, N, N, A),
    ("/api/call-list/", "GET"): (D, A, A, F, A),
    ("/api/calls/", "GET"): (D, A, A, F, A),
    ("/api/calls/", "POST"): (D, A, R, F, A),
    ("/api/calls/{id}/", "GET"): (D, A, N, F, A),
    ("/api/campaigns/", "GET"): (D, F, F, A, A),
    ("/api/campaigns/", "POST"): (D, F, F, A, F),
    ("/api/campaigns/{id}/", "GET"): (D, F, F, A, A),
    ("/api/campaigns/{id}/", "PATCH"): (D, F, F, A, F),
    ("/api/campaigns/{id}/influence/", "GET"): (D, F, F, A, A),
    ("/api/campaigns/{id}/members/", "GET"): (D, F, F, A, A),
    ("/api/campaigns/{id}/members/", "POST"): (D, F, F, A, F),
    ("/api/campaigns/{id}/members/sent/", "POST"): (D, F, F, A, F),
    ("/api/campaigns/{id}/members/{member_id}/status/", "POST"): (D, F, F, A, F),
    ("/api/campaigns/{id}/responses/", "POST"): (D, F, F, A, F),
    ("/api/collateral/", "GET"): (D, A, A, A, A),
    ("/api/collateral/", "POST"): (D, F, F, A, F),
    ("/api/collateral/{id}/", "GET"): (D, A, A, A, A),
    ("/api/collateral/{id}/", "PATCH"): (D, F, F, A, F),
    ("/api/collateral/{id}/archive/", "POST"): (D, F, F, A, F),
    ("/api/collateral/{id}/restore/", "POST"): (D, F, F, A, F),
    ("/api/collateral/{id}/share/", "POST"): (D, A, R, A, F),
    ("/api/collateral/{id}/versions/", "GET"): (D, A, A, A, A),
    ("/api/collateral/{id}/versions/", "POST"): (D, F, F, R, F),
    ("/api/contacts/", "GET"): (D, A, A, F, A),
    ("/api/contacts/", "POST"): (D, A, R, F, A),
    ("/api/contacts/{id}/", "GET"): (D, A, N, F, A),
    ("/api/contacts/{id}/", "PATCH"): (D, A, N, F, A),
    ("/api/customer-feedback/", "GET"): (D, A, A, A, A),
    ("/api/customer-feedback/", "POST"): (D, A, R, A, A),
    ("/api/deals/", "GET"): (D, A, A, F, A),
    ("/api/deals/", "POST"): (D, A, R, F, A),
    ("/api/deals/summary/", "GET"): (D, A, A, A, A),
    ("/api/deals/{id}/", "GET"): (D, A, N, F, A),
    ("/api/deals/{id}/", "PATCH"): (D, A, N, F, A),
    ("/api/deals/{id}/close/", "POST"): (D, A, N, F, A),
    ("/api/deals/{id}/move/", "POST"): (D, A, N, F, A),
    ("/api/events/", "POST"): (D, F, F, A, F),
    ("/api/leads/", "GET"): (D, A, A, A, A),
    ("/api/leads/", "POST"): (D, F, F, A, F),
    ("/api/leads/bulk/", "POST"): (D, F, F, A, F),
    ("/api/leads/by-email/{email}/", "PUT"): (D, F, F, A, F),
    ("/api/leads/{lead_id}/consents/", "GET"): (D, A, N, A, A),
    ("/api/leads/{lead_id}/consents/", "POST"): (D, A, N, A, A),
    ("/api/leads/{id}/", "GET"): (D, A, N, A, A),
    ("/api/leads/{id}/", "PATCH"): (D, A, N, A, A),
    ("/api/learned-models/", "GET"): (D, A, A, A, A),
    ("/api/learned-models/train/", "POST"): (D, F, F, A, F),
    ("/api/learned-models/{id}/", "GET"): (D, A, A, A, A),
    ("/api/learned-models/{id}/activate/", "POST"): (D, F, F, A, F),
    ("/api/objections/", "GET"): (D, A, A, F, A),
    ("/api/objections/summary/", "GET"): (D, A, A, A, A),
    ("/api/objections/{id}/", "GET"): (D, A, N, F, A),
    ("/api/queues/", "GET"): (D, A, A, A, A),
    ("/api/queues/{id}/", "GET"): (D, N, N, A, A),
    ("/api/reports/{name}/", "GET"): (D, F, F, A, A),
    ("/api/scoring/rule-set/", "GET"): (D, F, F, A, A),
    ("/api/scoring/rule-set/", "PUT"): (D, F, F, A, F),
    ("/api/scoring/versions/", "GET"): (D, F, F, A, A),
    ("/api/scoring/versions/{id}/", "GET"): (D, F, F, A, A),
    ("/api/scoring/versions/{id}/restore/", "POST"): (D, F, F, A, F),
    ("/api/search/", "GET"): (D, R, R, R, R),
    ("/api/segments/", "GET"): (D, A, A, A, A),
    ("/api/segments/", "POST"): (D, F, F, A, F),
    ("/api/segments/preview/", "POST"): (D, F, F, A, F),
    ("/api/segments/{id}/", "DELETE"): (D, F, F, A, F),
    ("/api/segments/{id}/", "GET"): (D, A, A, A, A),
    ("/api/segments/{id}/", "PATCH"): (D, F, F, A, F),
    ("/api/segments/{id}/", "PUT"): (D, F, F, A, F),
    ("/api/segments/{id}/explain/", "GET"): (D, R, R, R, R),
    ("/api/segments/{id}/versions/", "GET"): (D, A, A, A, A),
    ("/capture/{key}/", "POST"): (R, R, R, R, R),
}


SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def _schema_operations() -> list[tuple[str, str]]:
    return sorted(
        (path, method.upper())
        for path, ops in SCHEMA["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    )


OPERATIONS = _schema_operations()


def request_example(path: str, method: str):
    """The operation's first request example in the schema (None: it takes no body)."""
    body = SCHEMA["paths"][path][method.lower()].get("requestBody")
    if not body:
        return None
    for content in body["content"].values():
        for example in content.get("examples", {}).values():
            return example["value"]
    return None


# Body fields that name a record: the world's record of that kind (see _world).
BODY_IDS = {
    "lead": "lead_id",
    "lead_id": "lead_id",
    "account": "/api/accounts/",
    "rep_id": "other_rep_id",
    "target_segment_id": "/api/segments/",
    "segment_id": "/api/segments/",
}


# Where an operation needs a record in another state: a deal converts an accepted lead,
# feedback is about a customer, a member added is not a member yet.
PATH_BODY_IDS = {
    "/api/deals/": {"lead": "sal_lead_id"},
    "/api/customer-feedback/": {"lead_id": "customer_lead_id"},
    "/api/campaigns/{id}/members/": {"lead_id": "free_lead_id"},
}
# Write cells that stay 400 with a valid body: the role passed the permission check and the
# service refused the records' state or visibility, naming the field.
STATE_REFUSALS = {
    ("/api/calls/", "POST", "other_rep"): "lead_id: another rep's lead is not found",
    ("/api/collateral/{id}/share/", "POST", "other_rep"): "lead_id: another rep's lead is not found",
    ("/api/collateral/{id}/versions/", "POST", "marketer"): "file: the test's few bytes are not a document",
    ("/api/contacts/", "POST", "other_rep"): "account: another rep's account is not found",
    ("/api/customer-feedback/", "POST", "other_rep"): "lead_id: another rep's customer is not found",
    ("/api/deals/", "POST", "other_rep"): "lead_id: another rep's lead is not found",
}


def _with_world_ids(value, world: dict, ids: dict = BODY_IDS):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ids and isinstance(item, int):
                out[key] = world[ids[key]]
            elif key == "approved_segment_ids":
                out[key] = [world["/api/segments/"]]
            else:
                out[key] = _with_world_ids(item, world, ids)
        return out
    if isinstance(value, list):
        return [_with_world_ids(item, world, ids) for item in value]
    return value


def test_every_route_in_the_schema_has_a_row():
    missing = [op for op in OPERATIONS if op not in EXPECTED]
    stale = [op for op in EXPECTED if op not in OPERATIONS]

    assert not missing, f"routes without a row in EXPECTED: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


@pytest.fixture
def users(make_user):
    return {
        "anonymous": None,
        "rep": make_user("Sales rep", username="rep_a"),
        "other_rep": make_user("Sales rep", username="rep_b"),
        "marketer": make_user("Marketing", username="marketer", is_staff=True),
        "manager": make_user("Sales manager", username="manager", is_staff=True),
    }


def _world(users) -> dict[str, str]:
    """Records owned by ``rep`` for every kind of path parameter; returns the path values."""
    rep, marketer = users["rep"], users["marketer"]
    lead = LeadFactory(owner=rep, stage=LifecycleStage.HANDED_OFF)
    queue = SalesQueueFactory()
    assignment = AssignmentFactory(rep=rep, lead=lead, queue=queue)
    call = CallFactory(rep=rep, lead=lead)
    objection = ObjectionNoteFactory(call=call, lead=lead)
    account = AccountFactory(owner=rep)
    contact = ContactFactory(account=account)
    deal = DealFactory(owner=rep, account=account, lead=LeadFactory(owner=rep, stage=LifecycleStage.OPPORTUNITY))
    segment = SegmentFactory()
    campaign = CampaignFactory()
    member = CampaignMemberFactory(campaign=campaign, lead=lead)
    collateral = CollateralFactory()
    learned = LearnedModelFactory()
    customer = LeadFactory(owner=rep, stage=LifecycleStage.CUSTOMER)
    CustomerFeedbackFactory(lead=customer)
    sal_lead = LeadFactory(owner=rep, stage=LifecycleStage.SAL)
    AssignmentFactory(rep=rep, lead=sal_lead, queue=queue, status="accepted")
    free_lead = LeadFactory(owner=rep)
    form = CaptureForm.objects.create(key="matrix-form", name="Matrix")
    snapshot = rule_set_snapshot()
    version = rule_set_save(rules=snapshot["rules"], policy=snapshot["policy"], actor=marketer)
    return {
        "/api/accounts/": account.pk,
        "/api/assignments/": assignment.pk,
        "/api/calls/": call.pk,
        "/api/campaigns/": campaign.pk,
        "/api/collateral/": collateral.pk,
        "/api/contacts/": contact.pk,
        "/api/deals/": deal.pk,
        "/api/leads/": lead.pk,
        "/api/learned-models/": learned.pk,
        "/api/objections/": objection.pk,
        "/api/queues/": queue.pk,
        "/api/scoring/versions/": version.pk,
        "/api/segments/": segment.pk,
        "member_id": member.pk,
        "lead_id": lead.pk,
        "other_rep_id": users["other_rep"].pk,
        "customer_lead_id": customer.pk,
        "sal_lead_id": sal_lead.pk,
        "free_lead_id": free_lead.pk,
        "name": "handoff",
        "email": lead.email,
        "key": form.key,
    }


def _concrete(path: str, world: dict) -> str:
    for name in ("member_id", "lead_id", "name", "email", "key"):
        path = path.replace("{" + name + "}", str(world[name]))
    if "{id}" in path:
        prefix = path.split("{id}")[0]
        path = path.replace("{id}", str(world[prefix]))
    return path


def _outcome(status: int) -> str:
    if 200 <= status < 300:
        return A
    return str(status)


def _observe(users, path: str, method: str) -> tuple[str, ...]:
    world = _world(users)
    url = _concrete(path, world)
    example = request_example(path, method)
    ids = {**BODY_IDS, **PATH_BODY_IDS.get(path, {})}
    body = {} if example is None else _with_world_ids(example, world, ids)
    body_format = "json"
    if path == "/api/collateral/{id}/versions/" and method == "POST":  # an upload: multipart
        body, body_format = {"file": SimpleUploadedFile("v2.pdf", b"%PDF-1.4 matrix", "application/pdf")}, "multipart"
    outcomes = []
    for role in ROLES:
        client = APIClient()
        if users[role] is not None:
            client.force_authenticate(users[role])
        sid = transaction.savepoint()
        try:
            if body_format == "multipart":
                body["file"].seek(0)
            response = getattr(client, method.lower())(url, body, format=body_format)
        finally:
            transaction.savepoint_rollback(sid)
        assert response.status_code < 500, f"{method} {url} as {role}: {response.status_code}"
        outcomes.append(_outcome(response.status_code))
    return tuple(outcomes)


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_each_role_gets_the_expected_outcome(users, path, method):
    observed = _observe(users, path, method)
    if os.environ.get("ROLE_MATRIX_PRINT"):
        print(f'    ("{path}", "{method}"): ({", ".join(repr(o) for o in observed)}),')  # noqa: T201
    expected = EXPECTED.get((path, method))
    assert expected is not None, f"no row for {method} {path}"
    assert dict(zip(ROLES, observed, strict=True)) == dict(zip(ROLES, expected, strict=True))


def test_a_write_cell_of_400_is_a_refusal_of_the_records_state_not_a_hidden_403():
    """Writes send a valid body, so a 400 left in a write row is a known refusal of state."""
    unexplained = [
        (path, method, role)
        for (path, method), row in EXPECTED.items()
        if method != "GET"
        for role, cell in zip(ROLES, row, strict=True)
        if cell == R and (path, method, role) not in STATE_REFUSALS and path != "/capture/{key}/"
    ]

    assert unexplained == []


@pytest.mark.django_db
def test_a_personal_token_gets_the_same_outcome_as_its_user(users):
    """The table is observed with session-style authentication; a personal token is the
    same user, so the same row applies (spot-checked on a rep's own and another's lead)."""
    world = _world(users)
    _t, key = token_create(user=users["other_rep"], name="matrix")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    assert client.get("/api/leads/").status_code == 200
    assert client.get(f"/api/leads/{world['/api/leads/']}/").status_code == 404
