"""Training and activation of the learned model run on a real worker on the ``marketing``
queue: a marketer asks for a training run, a version appears, activation re-scores leads."""

import pytest
from django.urls import reverse

from leads.learning.models import TRAINING_STATUSES, LearnedModel, LearnedModelStatus
from leads.models import Lead
from tests.integration.conftest import wait_until
from tests.learning.factories import outcome_history

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_marketer_trains_and_activates_through_the_worker(celery_worker_factory, api_for, marketer):
    outcome_history(200, seed=21, signal=True)
    celery_worker_factory(queues="marketing,sales")  # sales: the fixture pings there
    api = api_for(marketer)

    assert api.post(reverse("learned-model-train"), {}, format="json").status_code == 202
    # The version exists at once as queued; the worker takes it through training to ready.
    wait_until(
        lambda: LearnedModel.objects.exclude(status__in=TRAINING_STATUSES).exists(),
        timeout=120,
        message="the worker to train a version",
    )
    model = LearnedModel.objects.get()
    assert model.status == LearnedModelStatus.READY and model.trained_by == marketer

    assert api.post(reverse("learned-model-activate", args=[model.pk])).status_code == 200
    wait_until(
        lambda: not Lead.objects.filter(learned_score__isnull=True).exists(),
        timeout=120,
        message="the worker to re-score every lead with the learned model",
    )
