"""Reads of learned scoring. Every role that may see the page sees every version (models are
aggregate, not per-rep data)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import TRAINING_STATUSES, LearnedModel, LearnedModelStatus, LearnedPairWeight, LearnedWeight


def learned_model_list() -> QuerySet[LearnedModel]:
    return LearnedModel.objects.select_related("trained_by", "activated_by")


def learned_model_top_weights(model: LearnedModel, *, limit: int = 10) -> dict[str, list]:
    """The strongest positive and negative per-value weights of a version and its strongest
    two-field cells (two queries)."""
    weights = list(LearnedWeight.objects.filter(model=model).exclude(weight=0))
    positive = sorted((w for w in weights if w.weight > 0), key=lambda w: -w.weight)[:limit]
    negative = sorted((w for w in weights if w.weight < 0), key=lambda w: w.weight)[:limit]
    pairs = sorted(LearnedPairWeight.objects.filter(model=model).exclude(weight=0), key=lambda w: -abs(w.weight))
    return {"positive": positive, "negative": negative, "pairs": pairs[:limit]}


def learned_model_compare(new: LearnedModel, old: LearnedModel, *, limit: int = 10) -> dict:
    """Metrics side by side and the weights that moved most between two versions."""
    by_key = {}
    for w in LearnedWeight.objects.filter(model__in=[new, old]):
        by_key.setdefault((w.feature, w.value), {})[w.model_id] = w.weight
    moves = [
        {
            "feature": feature,
            "value": value,
            "new": weights.get(new.pk, 0.0),
            "old": weights.get(old.pk, 0.0),
            "change": weights.get(new.pk, 0.0) - weights.get(old.pk, 0.0),
        }
        for (feature, value), weights in by_key.items()
    ]
    moves.sort(key=lambda m: -abs(m["change"]))
    return {"new": new, "old": old, "moves": moves[:limit]}


def learned_model_latest_refusal() -> LearnedModel | None:
    """The latest run if it could not train (the page says why scores are rules only)."""
    latest = LearnedModel.objects.exclude(status__in=TRAINING_STATUSES).order_by("-version").first()
    return latest if latest and latest.status == LearnedModelStatus.INSUFFICIENT_DATA else None
