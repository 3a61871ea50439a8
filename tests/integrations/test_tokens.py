import hashlib
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from config.api.throttles import WriteRateThrottle
from integrations.models import ApiToken
from integrations.tokens import token_create

pytestmark = pytest.mark.django_db


def bearer(api_client, key):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return api_client


def test_a_user_creates_a_token_on_the_page_and_sees_the_key_once_stored_only_as_a_hash(client_for, rep):
    client = client_for(rep)

    response = client.post("/account/tokens/", {"name": "website forms", "expires_on": ""})

    key = response.context["new_key"]
    token = ApiToken.objects.get(user=rep)
    assert key.startswith("bat_") and key in response.content.decode()
    assert token.name == "website forms" and token.expires_at is None
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert key not in client.get("/account/tokens/").content.decode()  # shown once
    assert response["Cache-Control"] == "no-store"


def test_a_token_with_an_expiry_day_expires_at_the_start_of_that_day(client_for, rep):
    day = (timezone.now() + timedelta(days=3)).date()

    client_for(rep).post("/account/tokens/", {"name": "ci", "expires_on": day.isoformat()})

    expires_at = ApiToken.objects.get(user=rep).expires_at
    assert expires_at.date() == day and (expires_at.hour, expires_at.minute) == (0, 0)


def test_a_blank_name_or_a_past_expiry_is_refused_with_the_field_named(client_for, rep):
    client = client_for(rep)

    blank = client.post("/account/tokens/", {"name": "  "})
    past = client.post("/account/tokens/", {"name": "old", "expires_on": "2001-01-01"})

    assert "name" in blank.context["form"].errors
    assert "expires_on" in past.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_page_lists_only_the_users_own_tokens(client_for, rep, other_rep):
    token_create(user=rep, name="mine")
    token_create(user=other_rep, name="theirs")

    page = client_for(rep).get("/account/tokens/")

    assert [t.name for t in page.context["tokens"]] == ["mine"]
    assert page.context["others"] is None
    assert "theirs" not in page.content.decode()


def test_a_manager_sees_everyones_active_tokens(client_for, rep, manager):
    token_create(user=rep, name="reps token")

    page = client_for(manager).get("/account/tokens/")

    assert [t.name for t in page.context["others"]] == ["reps token"]


def test_the_tokens_page_needs_a_login(client):
    response = client.get("/account/tokens/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_tokens_page_query_count_does_not_grow_with_tokens(client_for, manager, rep, count_queries):
    client = client_for(manager)
    token_create(user=manager, name="a")
    token_create(user=rep, name="b")
    few = count_queries(lambda: client.get("/account/tokens/"))
    for n in range(5):
        token_create(user=manager, name=f"m{n}")
        token_create(user=rep, name=f"r{n}")

    assert count_queries(lambda: client.get("/account/tokens/")) == few


def test_a_token_authenticates_api_requests_as_its_user(api_client, rep):
    token, key = token_create(user=rep, name="x")

    response = bearer(api_client, key).get("/api/leads/")

    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown", "inactive user"])
def test_a_revoked_expired_or_unknown_token_is_a_401(api_client, rep, state):
    token, key = token_create(user=rep, name="x")
    if state == "revoked":
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    elif state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "unknown":
        key = key[:-2] + ("aa" if not key.endswith("aa") else "bb")
    else:
        rep.is_active = False
        rep.save()

    response = bearer(api_client, key).get("/api/leads/")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Unknown, expired or revoked token."
    assert response["WWW-Authenticate"] == "Bearer"


def test_the_owner_revokes_their_token_and_it_stops_working(client_for, api_client, rep):
    token, key = token_create(user=rep, name="x")

    response = client_for(rep).post(f"/account/tokens/{token.pk}/revoke/")

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == rep
    assert bearer(api_client, key).get("/api/leads/").status_code == 401


@pytest.mark.parametrize("who", ["other_rep", "marketer"])
def test_nobody_but_the_owner_or_a_manager_can_revoke_a_token(client_for, rep, request, who):
    token, _key = token_create(user=rep, name="x")

    response = client_for(request.getfixturevalue(who)).post(f"/account/tokens/{token.pk}/revoke/")

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_manager_revokes_anyones_token(client_for, rep, manager):
    token, _key = token_create(user=rep, name="x")

    client_for(manager).post(f"/account/tokens/{token.pk}/revoke/")

    token.refresh_from_db()
    assert token.revoked_by == manager


def test_revoking_needs_a_post(client_for, rep):
    token, _key = token_create(user=rep, name="x")

    assert client_for(rep).get(f"/account/tokens/{token.pk}/revoke/").status_code == 405


# --- rate limits ---------------------------------------------------------------------------


@pytest.fixture
def write_rate(monkeypatch):
    cache.clear()
    monkeypatch.setitem(WriteRateThrottle.THROTTLE_RATES, "write", "3/min")
    yield
    cache.clear()


def test_writes_over_the_rate_are_a_429_with_retry_after_per_token(write_rate, api_client, marketer):
    from rest_framework.test import APIClient

    _t1, key1 = token_create(user=marketer, name="one")
    _t2, key2 = token_create(user=marketer, name="two")
    api = bearer(api_client, key1)
    statuses = [api.post("/api/events/", {"events": []}, format="json").status_code for _ in range(4)]
    refused = api.post("/api/events/", {"events": []}, format="json")

    other = bearer(APIClient(), key2).post("/api/events/", {"events": []}, format="json")

    assert statuses[:3] == [400, 400, 400] and statuses[3] == 429
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["error"]["status"] == 429
    assert other.status_code == 400  # the second token has its own count


def test_reads_are_not_rate_limited(write_rate, api_client, marketer):
    _t, key = token_create(user=marketer, name="one")
    api = bearer(api_client, key)

    assert {api.get("/api/leads/").status_code for _ in range(6)} == {200}
