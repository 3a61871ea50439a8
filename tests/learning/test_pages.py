"""/marketing/scoring/learned/: the marketer's page; reps and managers read it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.celery import app
from leads.api import learned_reasons_for_lead
from leads.learning.models import LearnedModel, LearnedModelStatus, LearnedPairWeight, LearnedWeight
from tests.leads.factories import LeadFactory

from .factories import LearnedModelFactory

pytestmark = pytest.mark.django_db
URL = "/marketing/scoring/learned/"


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


def ready_model(**kwargs):
    model = LearnedModelFactory(
        metrics={
            "auc_time": 0.74,
            "baseline_nb_auc_time": 0.66,
            "holdout_rows": 100,
            "bins": 10,
            "lambda": 3.0,
            "lift": [
                {"decile": 1, "count": 10, "positive_rate": 0.8, "lift": 2.5, "cumulative_capture": 0.3},
            ],
            "calibration": [{"decile": 1, "count": 10, "predicted": 0.1, "observed": 0.12}],
        },
        **kwargs,
    )
    LearnedWeight.objects.create(model=model, feature="industry", kind="categorical", value="software", weight=0.42)
    LearnedWeight.objects.create(model=model, feature="industry", kind="categorical", value="retail", weight=-0.31)
    return model


def test_the_marketer_sees_versions_metrics_lift_and_the_strongest_weights(client_for, marketer):
    ready_model(is_active=True)
    page = client_for(marketer).get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert reverse("learning:learned-train") in html
    assert "0.74" in html and "0.66" in html
    assert "industry = software" in html and "+0.42" in html and "-0.31" in html
    assert "2.5×" in html


def test_a_new_version_is_compared_with_the_active_one(client_for, marketer):
    active = ready_model(is_active=True)
    new = ready_model()
    LearnedWeight.objects.filter(model=new, value="software").update(weight=0.9)
    html = client_for(marketer).get(URL, {"version": new.version}).content.decode()
    assert f"Compared with the active version {active.version}" in html
    assert "0.90" in html
    assert reverse("learning:learned-activate", args=[new.pk]) in html


def test_without_enough_outcomes_the_page_says_scores_are_rules_only_and_why(client_for, marketer):
    LearnedModelFactory(status=LearnedModelStatus.INSUFFICIENT_DATA, note="Not enough outcomes to learn from: 3 won")
    html = client_for(marketer).get(URL).content.decode()
    assert "Scores are rules only." in html and "3 won" in html


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_sales_roles_read_the_page_without_train_or_activate(role, request, client_for):
    ready_model()
    page = client_for(request.getfixturevalue(role)).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Train a new version" not in html and "Activate v" not in html


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_sales_roles_cannot_post_train_or_activate(role, request, client_for, no_enqueue):
    model = ready_model()
    client = client_for(request.getfixturevalue(role))
    assert client.post(reverse("learning:learned-train")).status_code == 403
    assert client.post(reverse("learning:learned-activate", args=[model.pk])).status_code == 403
    assert no_enqueue == []


def test_train_form_queues_training_and_bad_exclusions_are_shown_on_the_field(
    client_for, marketer, no_enqueue, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    bad = client.post(reverse("learning:learned-train"), {"excluded_features": "shoe_size"})
    assert bad.status_code == 400 and "shoe_size" in bad.content.decode() and no_enqueue == []
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(reverse("learning:learned-train"), {"excluded_features": "industry, events.webinar"})
    assert ok.status_code == 302
    version = LearnedModel.objects.get()
    assert (version.status, version.excluded_features) == (LearnedModelStatus.QUEUED, ["events.webinar", "industry"])
    assert no_enqueue == [("train", (version.pk,))]


def test_activate_button_activates_and_rescores(client_for, marketer, no_enqueue, django_capture_on_commit_callbacks):
    model = ready_model()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(marketer).post(reverse("learning:learned-activate", args=[model.pk]), {"confirm": "yes"})
    assert response.status_code == 302
    assert LearnedModel.objects.get(pk=model.pk).is_active
    assert no_enqueue == [("apply", (model.pk,))]


def test_the_page_takes_the_same_queries_whatever_the_number_of_versions(
    client_for, marketer, django_assert_num_queries
):
    client = client_for(marketer)
    ready_model(is_active=True, trained_by=marketer, activated_by=marketer)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for _ in range(15):
        ready_model(trained_by=marketer)
    with django_assert_num_queries(len(few)):
        client.get(URL)


def test_reps_get_the_learned_reasons_of_a_lead_through_leads_api(db):
    model = ready_model(is_active=True)
    model.features = [{"name": "industry", "kind": "categorical", "values": ["retail", "software"], "exact": True}]
    model.save()
    reasons = learned_reasons_for_lead(LeadFactory(industry="software"))
    assert [r["text"] for r in reasons] == ["industry = software: +0.42"]


def test_the_learning_policy_admin_refuses_bad_values_on_the_field(client_for, make_user):
    admin_user = make_user(None, username="root", is_staff=True, is_superuser=True)
    client = client_for(admin_user)
    url = reverse("admin:learning_learningpolicy_add")
    response = client.post(
        url,
        {
            "negative_reasons": "[]",
            "min_outcomes_per_class": "30",
            "window_days": "730",
            "default_exclusions": '["shoe_size"]',
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "negative_reasons" in errors and "default_exclusions" in errors


def test_the_learned_model_admin_lists_versions(client_for, make_user):
    admin_user = make_user(None, username="root", is_staff=True, is_superuser=True)
    ready_model()
    assert client_for(admin_user).get(reverse("admin:learning_learnedmodel_changelist")).status_code == 200


@pytest.mark.parametrize("auc, weak", [(0.58, True), (0.6, False), (0.74, False)])
def test_a_version_that_barely_ranks_is_flagged_as_a_weak_signal(client_for, marketer, auc, weak):
    model = ready_model()
    model.metrics = {**model.metrics, "auc_time": auc}
    model.save(update_fields=["metrics"])
    text = " ".join(client_for(marketer).get(URL, {"version": model.version}).content.decode().split())
    assert ("This model barely beats guessing:" in text) is weak
    if weak:
        assert f"a ROC AUC of {auc} on the newest 100 outcomes is close to chance" in text


def pair_model(**kwargs):
    model = ready_model(**kwargs)
    model.features = [
        {"name": "industry", "kind": "categorical", "values": ["retail", "software"], "exact": True},
        {"name": "employees", "kind": "numeric", "edges": [50.0], "pair_edges": [50.0], "exact": True},
    ]
    model.metrics = {
        **model.metrics,
        "trainer": "interpret ExplainableBoostingClassifier",
        "settings": {"max_bins": 64},
        "pairs": ["industry x employees"],
    }
    model.save()
    LearnedPairWeight.objects.create(
        model=model, first="industry", second="employees", first_value="software", second_value=">= 50", weight=0.27
    )
    LearnedPairWeight.objects.create(
        model=model, first="industry", second="employees", first_value="retail", second_value="< 50", weight=-0.12
    )
    return model


def test_the_page_shows_the_strongest_two_field_weights_and_how_the_version_was_trained(client_for, marketer):
    model = pair_model()
    html = " ".join(client_for(marketer).get(URL, {"version": model.version}).content.decode().split())
    assert "industry x employees = software x &gt;= 50</td><td>+0.27" in html
    assert "retail x &lt; 50</td><td>-0.12" in html
    assert "Explainable boosting (interpret)" in html and "1 two-field tables (industry x employees)" in html


def test_a_lead_page_reason_names_the_pair_of_values_it_read(db):
    pair_model(is_active=True)
    reasons = learned_reasons_for_lead(LeadFactory(industry="software", employees=120))
    assert [r["text"] for r in reasons] == [
        "industry = software: +0.42",
        "industry x employees = software x >= 50: +0.27",
    ]
    assert reasons[1]["pair"] is True


def test_the_page_describes_the_model_baton_trains(client_for, marketer):
    """The trainer is interpret's explainable boosting (leads/learning/boosting.py), not the
    regression + naive Bayes blend it replaced: the page says so."""
    html = client_for(marketer).get(reverse("learning:learned-scoring")).content.decode()
    assert "explainable boosting machine" in html and "two-feature tables" in html
    assert "logistic regression" not in html and "naive Bayes" not in html
