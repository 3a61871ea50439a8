"""Celery tasks of learned scoring. Their names start with ``leads.`` so they are routed to the
``marketing`` queue."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="leads.learning.tasks.learned_train_task")
def learned_train_task(actor_id: int | None = None, excluded_features: list[str] | None = None) -> int:
    """Train a new version (weekly by beat, or on demand); returns its id. A repeat delivery
    trains one more version, which is harmless: nothing is activated by training."""
    from django.contrib.auth import get_user_model

    from .services import learned_model_train

    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return learned_model_train(actor=actor, excluded_features=excluded_features).pk


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
