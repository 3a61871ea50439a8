"""Celery tasks of learned scoring. Their names start with ``leads.`` so they are routed to the
``marketing`` queue."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="leads.learning.tasks.learned_train_task")
def learned_train_task(actor_id: int | None = None, excluded_features: list[str] | None = None) -> int:
    """Train a new version (weekly by beat); returns its id. The version shows as queued,
    then running with its progress, like one a marketer asked for. A repeat delivery trains
    one more version, which is harmless: nothing is activated by training."""
    from django.contrib.auth import get_user_model

    from .services import learned_model_queue, learned_model_train_queued

    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    version = learned_model_queue(actor=actor, excluded_features=excluded_features, send=False)
    learned_model_train_queued(model_id=version.pk)
    return version.pk


@shared_task(name="leads.learning.tasks.learned_train_queued_task")
def learned_train_queued_task(model_id: int) -> int | None:
    """Run the training of the queued version ``model_id`` (the page's and the API's Train).
    A repeat delivery finds it no longer queued and does nothing."""
    from .services import learned_model_train_queued

    version = learned_model_train_queued(model_id=model_id)
    return version.pk if version else None


@shared_task(name="leads.learning.tasks.learned_apply_task")
def learned_apply_task(model_id: int | None = None) -> int:
    """Re-score every lead with the model active *now* (not necessarily ``model_id``, which a
    newer activation may have replaced): learned scores, then the rule scores that blend them
    and qualification. Idempotent."""
    from leads.models import LearnedScoreMode, ScoringPolicy
    from leads.scoring import leads_rescore_all

    from .apply import learned_scores_apply

    if ScoringPolicy.current().learned_mode == LearnedScoreMode.OFF:
        # Rules only: the learned score is kept for the marketer's page, the score is unchanged.
        return learned_scores_apply()
    # Otherwise leads_rescore_all applies the active learned model first (blend mode reads
    # learned_score), then the rules, then enqueues qualification.
    return leads_rescore_all()
