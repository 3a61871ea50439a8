"""Every API route and method, as every role, with the outcome expected (one table).

The routes come from the OpenAPI schema: a route or method the table does not list fails
``test_every_route_in_the_schema_has_a_row`` (add its row when you add the route). Each cell is
the status class one request gets with an empty JSON body (writes) on fresh data, where the
records in the path belong to ``rep``: ``2xx``, ``400`` (passed the permission check, input
refused), ``401``, ``403``, ``404`` (the row is not visible to this user). Each request runs
in a savepoint that is rolled back, so no cell depends on another.
"""

from __future__ import annotations

import os

import pytest
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
    ("/api/accounts/", "POST"): (D, R, R, F, R),
    ("/api/accounts/{id}/", "GET"): (D, A, N, F, A),
    ("/api/accounts/{id}/", "PATCH"): (D, A, N, F, A),
    ("/api/assignments/", "GET"): (D, A, A, A, A),
    ("/api/assignments/{id}/", "GET"): (D, A, N, N, A),
    ("/api/assignments/{id}/accept/", "POST"): (D, A, N, N, A),
    ("/api/assignments/{id}/reassign/", "POST"): (D, F, N, N, R),
    ("/api/assignments/{id}/reject/", "POST"): (D, R, N, N, R),
    ("/api/call-list/", "GET"): (D, A, A, F, A),
    ("/api/calls/", "GET"): (D, A, A, F, A),
    ("/api/calls/", "POST"): (D, R, R, F, R),
    ("/api/calls/{id}/", "GET"): (D, A, N, F, A),
    ("/api/campaigns/", "GET"): (D, F, F, A, A),
    ("/api/campaigns/", "POST"): (D, F, F, R, R),
    ("/api/campaigns/{id}/", "GET"): (D, F, F, A, A),
    ("/api/campaigns/{id}/", "PATCH"): (D, F, F, A, F),
    ("/api/campaigns/{id}/influence/", "GET"): (D, F, F, A, A),
    ("/api/campaigns/{id}/members/", "GET"): (D, F, F, A, A),
    ("/api/campaigns/{id}/members/", "POST"): (D, F, F, R, R),
    ("/api/campaigns/{id}/members/sent/", "POST"): (D, F, F, A, F),
    ("/api/campaigns/{id}/members/{member_id}/status/", "POST"): (D, F, F, R, R),
    ("/api/campaigns/{id}/responses/", "POST"): (D, F, F, R, R),
    ("/api/collateral/", "GET"): (D, A, A, A, A),
    ("/api/collateral/", "POST"): (D, R, R, R, R),
    ("/api/collateral/{id}/", "GET"): (D, A, A, A, A),
    ("/api/collateral/{id}/", "PATCH"): (D, F, F, A, F),
    ("/api/collateral/{id}/archive/", "POST"): (D, F, F, A, F),
    ("/api/collateral/{id}/restore/", "POST"): (D, F, F, A, F),
    ("/api/collateral/{id}/share/", "POST"): (D, R, R, R, R),
    ("/api/collateral/{id}/versions/", "GET"): (D, A, A, A, A),
    ("/api/collateral/{id}/versions/", "POST"): (D, R, R, R, R),
    ("/api/contacts/", "GET"): (D, A, A, F, A),
    ("/api/contacts/", "POST"): (D, R, R, F, R),
    ("/api/contacts/{id}/", "GET"): (D, A, N, F, A),
    ("/api/contacts/{id}/", "PATCH"): (D, A, N, F, A),
    ("/api/customer-feedback/", "GET"): (D, A, A, A, A),
    ("/api/customer-feedback/", "POST"): (D, R, R, R, R),
    ("/api/deals/", "GET"): (D, A, A, F, A),
    ("/api/deals/", "POST"): (D, R, R, F, R),
    ("/api/deals/summary/", "GET"): (D, A, A, A, A),
    ("/api/deals/{id}/", "GET"): (D, A, N, F, A),
    ("/api/deals/{id}/", "PATCH"): (D, A, N, F, A),
    ("/api/deals/{id}/close/", "POST"): (D, R, N, F, R),
    ("/api/deals/{id}/move/", "POST"): (D, R, N, F, R),
    ("/api/events/", "POST"): (D, F, F, R, F),
    ("/api/leads/", "GET"): (D, A, A, A, A),
    ("/api/leads/", "POST"): (D, F, F, R, F),
    ("/api/leads/bulk/", "POST"): (D, F, F, R, F),
    ("/api/leads/by-email/{email}/", "PUT"): (D, F, F, A, F),
    ("/api/leads/{lead_id}/consents/", "GET"): (D, A, N, A, A),
    ("/api/leads/{lead_id}/consents/", "POST"): (D, R, N, R, R),
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
    ("/api/scoring/rule-set/", "PUT"): (D, F, F, R, F),
    ("/api/scoring/versions/", "GET"): (D, F, F, A, A),
    ("/api/scoring/versions/{id}/", "GET"): (D, F, F, A, A),
    ("/api/scoring/versions/{id}/restore/", "POST"): (D, F, F, A, F),
    ("/api/search/", "GET"): (D, R, R, R, R),
    ("/api/segments/", "GET"): (D, A, A, A, A),
    ("/api/segments/", "POST"): (D, F, F, R, F),
    ("/api/segments/preview/", "POST"): (D, F, F, R, F),
    ("/api/segments/{id}/", "DELETE"): (D, F, F, A, F),
    ("/api/segments/{id}/", "GET"): (D, A, A, A, A),
    ("/api/segments/{id}/", "PATCH"): (D, F, F, A, F),
    ("/api/segments/{id}/", "PUT"): (D, F, F, R, F),
    ("/api/segments/{id}/explain/", "GET"): (D, R, R, R, R),
    ("/api/segments/{id}/versions/", "GET"): (D, A, A, A, A),
    ("/capture/{key}/", "POST"): (R, R, R, R, R),
}


def _schema_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (path, method.upper())
        for path, ops in schema["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    )


OPERATIONS = _schema_operations()


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
    CustomerFeedbackFactory(lead=LeadFactory(owner=rep, stage=LifecycleStage.CUSTOMER))
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
    outcomes = []
    for role in ROLES:
        client = APIClient()
        if users[role] is not None:
            client.force_authenticate(users[role])
        sid = transaction.savepoint()
        try:
            response = getattr(client, method.lower())(url, {}, format="json")
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
