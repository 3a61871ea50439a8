"""Issue 21 item 10: a training run shows as queued, then running with its progress, then done
or failed with the error (reload-safe: the state is a row); a weak version is flagged in plain
words next to Activate, and activating asks for confirmation first (no script needed)."""

import pytest
from django.urls import reverse

from config.celery import app
from leads.learning.models import LearnedModel, LearnedModelStatus
from leads.learning.services import learned_model_queue, learned_model_train_queued
from leads.learning.tasks import learned_train_queued_task, learned_train_task

from .factories import LearnedModelFactory, outcome_history

pytestmark = pytest.mark.django_db
URL = "/marketing/scoring/learned/"


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args=(), **kw: calls.append((name, tuple(args))))
    return calls


def _text(response) -> str:
    return " ".join(response.content.decode().split())


def test_after_train_the_page_shows_the_version_queued_also_on_reload(
    client_for, marketer, sent, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("learning:learned-train"), {"excluded_features": ""}, follow=True)

    version = LearnedModel.objects.get()
    assert sent == [("leads.learning.tasks.learned_train_queued_task", (version.pk,))]
    for page in (response, client.get(URL)):  # the redirect, then a reload
        text = _text(page)
        assert f"Version {version.version}: queued" in text
        assert "No version trained yet" not in text
        assert 'hx-get="/marketing/scoring/learned/training/"' in text  # it polls while queued


def test_a_running_version_shows_its_progress_and_step(client_for, marketer):
    version = LearnedModelFactory(
        status=LearnedModelStatus.RUNNING, progress=30, progress_step="Training on the older outcomes"
    )

    page = _text(client_for(marketer).get(URL))
    panel = _text(client_for(marketer).get(reverse("learning:learned-training"), HTTP_HX_REQUEST="true"))

    for text in (page, panel):
        assert f"Version {version.version}: training" in text
        assert '<progress max="100" value="30"' in text
        assert "30 % · Training on the older outcomes" in text
    assert "Training (30 %)" in page  # and in the versions table


def test_the_poll_reloads_the_page_once_nothing_is_training(client_for, marketer):
    LearnedModelFactory(status=LearnedModelStatus.READY)
    response = client_for(marketer).get(reverse("learning:learned-training"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Refresh"] == "true"


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_sales_roles_may_read_the_progress_and_anonymous_may_not(role, request, client_for):
    from django.test import Client

    LearnedModelFactory(status=LearnedModelStatus.QUEUED)
    assert Client().get(reverse("learning:learned-training")).status_code == 302
    assert client_for(request.getfixturevalue(role)).get(reverse("learning:learned-training")).status_code == 200


def test_the_worker_moves_a_queued_version_to_ready_writing_progress_on_the_way(marketer, sent, monkeypatch):
    outcome_history(400, seed=11, signal=True)
    queued = learned_model_queue(actor=marketer, excluded_features=["attr.age"], send=False)
    seen = []
    real_update = LearnedModel.objects.filter(pk=queued.pk).update

    from leads.learning import services

    def progress(version, percent, step):
        seen.append((percent, step, LearnedModel.objects.get(pk=version.pk).status))
        real_update(progress=percent, progress_step=step)

    monkeypatch.setattr(services, "_progress", progress)

    assert learned_train_queued_task(queued.pk) == queued.pk

    done = LearnedModel.objects.get(pk=queued.pk)
    assert (done.status, done.version, done.progress, done.progress_step) == (
        LearnedModelStatus.READY,
        queued.version,
        100,
        "",
    )
    assert done.excluded_features == ["attr.age"] and done.trained_by == marketer
    assert [p for p, _step, _status in seen] == sorted(p for p, _step, _status in seen) and len(seen) >= 4
    assert {status for _p, _step, status in seen} == {LearnedModelStatus.RUNNING}
    assert LearnedModel.objects.count() == 1  # the queued row became the version
    # A repeated delivery finds it no longer queued and trains nothing more.
    assert learned_train_queued_task(queued.pk) is None
    assert LearnedModel.objects.count() == 1


def test_a_failed_run_is_kept_as_failed_with_the_error_on_the_page(client_for, marketer, sent, monkeypatch):
    from leads.learning import services

    def boom(**kwargs):
        raise MemoryError("the worker ran out of memory")

    monkeypatch.setattr(services, "learned_model_train", boom)
    queued = learned_model_queue(actor=marketer, send=False)

    failed = learned_model_train_queued(model_id=queued.pk)

    assert failed.status == LearnedModelStatus.FAILED
    assert failed.note == "Training failed: MemoryError: the worker ran out of memory"
    text = _text(client_for(marketer).get(URL))
    assert "Failed" in text and "Training failed: MemoryError: the worker ran out of memory" in text
    assert "hx-trigger" not in text.split('id="training"')[1].split(">")[0]  # no more polling


def test_the_weekly_task_shows_its_run_as_a_version_too(sent):
    outcome_history(40, seed=13, signal=True)
    model_id = learned_train_task()
    model = LearnedModel.objects.get(pk=model_id)
    assert model.status == LearnedModelStatus.INSUFFICIENT_DATA and model.progress == 100
    assert sent == []  # it ran in the same task; nothing else was queued


def test_a_weak_version_is_flagged_in_plain_words_next_to_activate(client_for, marketer):
    weak = LearnedModelFactory(metrics={"auc_time": 0.579, "holdout_rows": 80})
    strong = LearnedModelFactory(metrics={"auc_time": 0.74, "holdout_rows": 80})

    text = _text(client_for(marketer).get(URL))

    row = text.split(f">v{weak.version}</a>")[1].split("</tr>")[0]
    assert f"Activate v{weak.version}" in row
    assert "<strong>This model barely beats guessing:</strong> ROC AUC 0.579, where a coin toss gets 0.5." in row
    strong_row = text.split(f">v{strong.version}</a>")[1].split("</tr>")[0]
    assert "barely beats guessing" not in strong_row


def test_activate_asks_for_confirmation_first_and_says_the_model_is_weak(client_for, marketer, sent):
    active = LearnedModelFactory(is_active=True)
    weak = LearnedModelFactory(metrics={"auc_time": 0.579, "holdout_rows": 80})
    client = client_for(marketer)
    url = reverse("learning:learned-activate", args=[weak.pk])

    page = client.get(url)
    stray = client.post(url)  # a POST without the confirmation only shows the question again

    for response in (page, stray):
        text = _text(response)
        assert response.status_code == 200
        assert f"Activate learned model version {weak.version}?" in text
        assert "This model barely beats guessing:" in text and "58 times in 100" in text
        assert f"replaces version {active.version}" in text
        assert 'name="confirm" value="yes"' in text
    weak.refresh_from_db()
    assert not weak.is_active and sent == []

    done = client.post(url, {"confirm": "yes"})
    weak.refresh_from_db()
    assert done.status_code == 302 and weak.is_active


def test_the_confirmation_of_a_good_version_has_no_weak_warning(client_for, marketer):
    good = LearnedModelFactory(metrics={"auc_time": 0.74, "holdout_rows": 80})
    text = _text(client_for(marketer).get(reverse("learning:learned-activate", args=[good.pk])))
    assert "barely beats guessing" not in text and f"Yes, activate version {good.version}" in text


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_sales_roles_get_no_confirmation_page(role, request, client_for):
    model = LearnedModelFactory()
    assert (
        client_for(request.getfixturevalue(role)).get(reverse("learning:learned-activate", args=[model.pk])).status_code
        == 403
    )
