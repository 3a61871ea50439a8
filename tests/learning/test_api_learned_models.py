"""/api/learned-models/: every role reads, marketing trains and activates."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from config.celery import app
from leads.learning.models import LearnedModel, LearnedModelStatus, LearnedWeight

from .factories import LearnedModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_enqueue(monkeypatch):
    calls = []
    kinds = {".learned_apply_task": "apply", ".learned_train_queued_task": "train"}

    def send_task(name, args=(), **kw):
        kind = next((k for suffix, k in kinds.items() if name.endswith(suffix)), None)
        if kind:
            calls.append((kind, tuple(args)))

    monkeypatch.setattr(app, "send_task", send_task)
    return calls


def model_with_weights(**kwargs):
    model = LearnedModelFactory(**kwargs)
    LearnedWeight.objects.create(model=model, feature="industry", kind="categorical", value="software", weight=0.42)
    LearnedWeight.objects.create(model=model, feature="industry", kind="categorical", value="retail", weight=-0.3)
    return model


@pytest.mark.parametrize("role", ["marketer", "manager", "rep"])
def test_every_role_reads_versions_and_weights(role, request):
    user = request.getfixturevalue(role)
    model = model_with_weights()
    api = APIClient()
    api.force_authenticate(user)
    listing = api.get(reverse("learned-model-list"))
    assert listing.status_code == 200
    assert listing.json()["results"][0]["version"] == model.version
    detail = api.get(reverse("learned-model-detail", args=[model.pk])).json()
    assert {(w["feature"], w["value"], w["weight"]) for w in detail["weights"]} == {
        ("industry", "software", 0.42),
        ("industry", "retail", -0.3),
    }


def test_anonymous_users_are_refused(client):
    assert client.get(reverse("learned-model-list")).status_code in (401, 403)


def test_the_list_takes_the_same_queries_whatever_the_number_of_versions(api_for, marketer, django_assert_num_queries):
    api = api_for(marketer)
    LearnedModelFactory.create_batch(2, trained_by=marketer, activated_by=marketer)
    api.get(reverse("learned-model-list"))  # the user's permissions are cached after one request
    with CaptureQueriesContext(connection) as few:
        api.get(reverse("learned-model-list"))
    LearnedModelFactory.create_batch(20, trained_by=marketer, activated_by=marketer)
    with django_assert_num_queries(len(few)):
        assert len(api.get(reverse("learned-model-list")).json()["results"]) == 22


def test_marketing_queues_a_training_run_after_commit(
    api_for, marketer, no_enqueue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(marketer).post(
            reverse("learned-model-train"), {"excluded_features": ["attr.call_minutes"]}, format="json"
        )
    assert response.status_code == 202
    version = LearnedModel.objects.get()
    assert response.json() == {
        "status": "queued",
        "id": version.pk,
        "version": version.version,
        "excluded_features": ["attr.call_minutes"],
    }
    assert (version.status, version.excluded_features, version.trained_by) == (
        LearnedModelStatus.QUEUED,
        ["attr.call_minutes"],
        marketer,
    )
    assert no_enqueue == [("train", (version.pk,))]
    listed = api_for(marketer).get(reverse("learned-model-list")).json()["results"][0]
    assert (listed["status"], listed["progress"]) == ("queued", 0)


def test_a_bad_exclusion_is_a_400_naming_the_field(api_for, marketer, no_enqueue):
    response = api_for(marketer).post(reverse("learned-model-train"), {"excluded_features": ["nope"]}, format="json")
    assert response.status_code == 400
    assert "excluded_features" in response.json()["error"]["fields"]
    assert no_enqueue == []


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_sales_roles_cannot_train_or_activate(role, request, api_for, no_enqueue):
    api = api_for(request.getfixturevalue(role))
    model = LearnedModelFactory()
    assert api.post(reverse("learned-model-train"), {}, format="json").status_code == 403
    assert api.post(reverse("learned-model-activate", args=[model.pk])).status_code == 403
    model.refresh_from_db()
    assert not model.is_active and no_enqueue == []


def test_marketing_activates_a_version_and_the_previous_one_stops(
    api_for, marketer, no_enqueue, django_capture_on_commit_callbacks
):
    old = LearnedModelFactory(is_active=True)
    new = LearnedModelFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(marketer).post(reverse("learned-model-activate", args=[new.pk]))
    assert response.status_code == 200
    assert response.json()["is_active"] is True and response.json()["activated_by"] == "marketer"
    assert list(LearnedModel.objects.active()) == [new]
    old.refresh_from_db()
    assert not old.is_active
    assert no_enqueue == [("apply", (new.pk,))]


def test_a_version_without_enough_data_cannot_be_activated(api_for, marketer, no_enqueue):
    refused = LearnedModelFactory(status=LearnedModelStatus.INSUFFICIENT_DATA, note="Not enough outcomes")
    response = api_for(marketer).post(reverse("learned-model-activate", args=[refused.pk]))
    assert response.status_code == 400
    assert "model" in response.json()["error"]["fields"]


def test_an_unknown_version_is_a_404(api_for, marketer):
    assert api_for(marketer).post(reverse("learned-model-activate", args=[999999])).status_code == 404
