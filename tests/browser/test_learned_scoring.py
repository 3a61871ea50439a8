"""The learned-scoring page in Chromium: a run in progress shows with its progress bar and is
polled until done (the page then reloads by itself); a weak version is flagged next to
Activate; Activate asks on a confirmation page first."""

import pytest
from playwright.sync_api import expect

from leads.learning.models import LearnedModel, LearnedModelStatus
from tests.learning.factories import LearnedModelFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_training_progress_weak_warning_and_confirmed_activation(
    make_user, login, live_server, page, artifacts_dir, monkeypatch
):
    from config.celery import app

    monkeypatch.setattr(app, "send_task", lambda *a, **kw: None)  # no worker in this test
    make_user("Marketing", username="maya", password="pw", is_staff=True)
    LearnedModelFactory(version=1, is_active=True, metrics={"auc_time": 0.74, "holdout_rows": 80})
    weak = LearnedModelFactory(version=2, metrics={"auc_time": 0.579, "holdout_rows": 80})
    running = LearnedModelFactory(
        version=3, status=LearnedModelStatus.RUNNING, progress=30, progress_step="Training on the older outcomes"
    )
    login("maya", "pw")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/marketing/scoring/learned/")

    panel = page.locator("#training")
    expect(panel).to_contain_text("Version 3: training")
    expect(panel).to_contain_text("30 % · Training on the older outcomes")
    expect(page.locator("progress")).to_have_attribute("value", "30")
    row = page.locator("tr", has=page.get_by_role("link", name="v2", exact=True))
    expect(row).to_contain_text("This model barely beats guessing: ROC AUC 0.579, where a coin toss gets 0.5.")
    page.screenshot(path=str(artifacts_dir / "learned-scoring-training.png"), full_page=True)

    # The worker moves on: the poll shows it, then the finished version reloads the page.
    LearnedModel.objects.filter(pk=running.pk).update(progress=65, progress_step="Training on all outcomes")
    expect(panel).to_contain_text("65 % · Training on all outcomes", timeout=10_000)
    LearnedModel.objects.filter(pk=running.pk).update(status=LearnedModelStatus.FAILED, note="Training failed: boom")
    expect(page.locator("#training .card")).to_have_count(0, timeout=10_000)
    expect(page.locator("tr", has=page.get_by_role("link", name="v3", exact=True))).to_contain_text(
        "Training failed: boom"
    )

    page.get_by_role("link", name="Activate v2…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Activate learned model version 2?")
    expect(page.get_by_role("alert")).to_contain_text("This model barely beats guessing")
    page.screenshot(path=str(artifacts_dir / "learned-scoring-confirm.png"), full_page=True)
    weak.refresh_from_db()
    assert not weak.is_active
    page.get_by_role("button", name="Yes, activate version 2").click()
    expect(page.locator(".messages")).to_contain_text("Version 2 is active")
    weak.refresh_from_db()
    assert weak.is_active
