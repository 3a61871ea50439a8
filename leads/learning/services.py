"""Writes of learned scoring: training a version, activating it, changing the policy."""

from __future__ import annotations

import datetime
import logging

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from leads.models import EngagementKind, Lead, LeadOutcome

from . import enqueue
from .features import (
    ATTR_PREFIX,
    EVENTS_PREFIX,
    LEAD_FIELDS,
    attr_usable,
    event_counts_for,
    feature_kinds,
    lead_row,
    outcomes_in_window,
)
from .learner import NaiveBayes, SealedRows, calibration_by_decile, lift_table, time_split
from .models import (
    LearnedModel,
    LearnedModelStatus,
    LearnedPairWeight,
    LearnedWeight,
    LearningPolicy,
)

logger = logging.getLogger(__name__)

HOLDOUT_SHARE = 0.3


def feature_name_validate(name: str) -> str | None:
    """None when ``name`` can be a feature, else why not."""
    if name in LEAD_FIELDS:
        return None
    if name.startswith(ATTR_PREFIX):
        return None if attr_usable(name[len(ATTR_PREFIX) :]) else f"'{name}' is not a usable attribute name."
    if name.startswith(EVENTS_PREFIX):
        kind = name[len(EVENTS_PREFIX) :]
        return None if kind in EngagementKind.values else f"'{kind}' is not an engagement kind."
    known = ", ".join(LEAD_FIELDS)
    return f"'{name}' is not a feature; use one of {known}, attr.<name> or events.<kind>."


def _clean_exclusions(exclusions, *, field: str = "excluded_features") -> list[str]:
    if exclusions is None:
        return []
    if not isinstance(exclusions, (list, tuple)) or not all(isinstance(x, str) for x in exclusions):
        raise ValidationError({field: "A list of feature names is required."})
    names = sorted({x.strip() for x in exclusions if x.strip()})
    problems = [p for p in (feature_name_validate(n) for n in names) if p]
    if problems:
        raise ValidationError({field: problems})
    return names


def exclusions_validate(exclusions) -> list[str]:
    """The cleaned list of feature names to exclude; ValidationError naming
    ``excluded_features`` otherwise."""
    return _clean_exclusions(exclusions)


def _next_version() -> int:
    return (LearnedModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1


def learned_model_queue(*, actor=None, excluded_features: list[str] | None = None, send: bool = True) -> LearnedModel:
    """Ask for a training run: a new version row with status ``queued`` (numbered now, under
    the policy row's lock) and the training task sent after commit. The worker moves it to
    ``running`` with its progress, then ``ready``, ``insufficient_data`` or ``failed`` (the
    error in ``note``), so the page shows the run from the moment it is asked for. ``send``
    False: the caller runs it itself (the weekly beat task)."""
    policy = LearningPolicy.current()
    exclusions = _clean_exclusions(policy.default_exclusions if excluded_features is None else excluded_features)
    now = timezone.now()
    with transaction.atomic():
        LearningPolicy.objects.select_for_update().get(pk=policy.pk)
        version = LearnedModel.objects.create(
            version=_next_version(),
            status=LearnedModelStatus.QUEUED,
            progress_step="Waiting for a worker",
            window_start=now - datetime.timedelta(days=policy.window_days),
            window_end=now,
            excluded_features=exclusions,
            negative_reasons=list(policy.negative_reasons),
            trained_by=actor,
            trained_at=now,
        )
        if send:
            enqueue.learned_train(version.pk)
    return version


def _progress(version: LearnedModel, percent: int, step: str) -> None:
    # Its own UPDATE outside any transaction, so the page sees it while the run goes on.
    version.progress, version.progress_step = percent, step
    LearnedModel.objects.filter(pk=version.pk).update(progress=percent, progress_step=step)


def _claim(model_id: int) -> LearnedModel | None:
    """The queued version ``model_id``, moved to ``running``; None when it is not queued any
    more (a repeated delivery of its task, or a row already finished)."""
    with transaction.atomic():
        version = LearnedModel.objects.select_for_update().filter(pk=model_id).first()
        if version is None or version.status != LearnedModelStatus.QUEUED:
            return None
        version.status = LearnedModelStatus.RUNNING
        version.progress, version.progress_step = 0, "Starting"
        version.save(update_fields=["status", "progress", "progress_step"])
    return version


def learned_model_train_queued(*, model_id: int) -> LearnedModel | None:
    """Run the training a ``learned_model_queue`` asked for (the worker's task). An error is
    kept on the version (status ``failed``, the error in ``note``) and logged, not raised: a
    retry would only fail again; the marketer trains again once the cause is fixed."""
    version = _claim(model_id)
    if version is None:
        return None
    try:
        return learned_model_train(
            actor=version.trained_by, excluded_features=list(version.excluded_features), version=version
        )
    except Exception as exc:
        logger.exception("Training learned model version %s failed", version.version)
        LearnedModel.objects.filter(pk=version.pk).update(
            status=LearnedModelStatus.FAILED, note=f"Training failed: {type(exc).__name__}: {exc}"[:5000]
        )
        version.refresh_from_db()
        return version


def _store(version: LearnedModel | None, **fields) -> LearnedModel:
    """Write a run's result into its version row (``version``), or into a new row numbered
    under the policy row's lock (the caller holds it) when the run had none."""
    if version is None:
        return LearnedModel.objects.create(version=_next_version(), **fields)
    for name, value in fields.items():
        setattr(version, name, value)
    version.save()
    return version


def learned_model_train(
    *,
    actor=None,
    excluded_features: list[str] | None = None,
    now: datetime.datetime | None = None,
    version: LearnedModel | None = None,
) -> LearnedModel:
    """Train a new version from the outcomes in the policy's window and keep it (inactive).

    Outcomes: leads that became customers (positive) and leads recycled with a counted reason
    (negative), as ``features.outcomes_in_window`` reads them from the lifecycle history.
    Features are the lead's fields and attributes now and its engagement counts up to the
    outcome, minus ``excluded_features`` (the policy's default exclusions when None). The
    newest 30 % of outcomes are held out to measure the version (ROC AUC against a naive
    Bayes baseline, calibration, lift); the weights kept are then fitted on all outcomes.

    With fewer than the policy's minimum of either class the version is kept with status
    ``insufficient_data`` and a note saying what is missing; it can never be activated.
    ``version`` is the running row of a queued run (its progress is written as the run goes);
    without it a new row is made. Versions are numbered under the policy row's lock, so
    concurrent runs never clash.
    """
    policy = LearningPolicy.current()
    exclusions = _clean_exclusions(policy.default_exclusions if excluded_features is None else excluded_features)
    now = now or timezone.now()
    if version is not None:
        _progress(version, 5, "Reading outcomes")
    window_start = now - datetime.timedelta(days=policy.window_days)
    outcomes = outcomes_in_window(start=window_start, end=now, negative_reasons=list(policy.negative_reasons))
    # Profiling withdrawn (consent): the lead's data is not learned from.
    withdrawn = set(
        Lead.objects.filter(pk__in=[o.lead_id for o in outcomes], do_not_profile=True).values_list("pk", flat=True)
    )
    outcomes = [o for o in outcomes if o.lead_id not in withdrawn]
    positives = sum(1 for o in outcomes if o.positive)
    negatives = len(outcomes) - positives
    base = {
        "window_start": window_start,
        "window_end": now,
        "excluded_features": exclusions,
        "negative_reasons": list(policy.negative_reasons),
        "positives": positives,
        "negatives": negatives,
        "trained_by": actor,
        "trained_at": now,
    }
    if min(positives, negatives) < policy.min_outcomes_per_class:
        note = (
            f"Not enough outcomes to learn from: {positives} won and {negatives} lost, rejected or not "
            f"reached in the last {policy.window_days} days; at least {policy.min_outcomes_per_class} of "
            "each are needed. Scores stay rules only."
        )
        with transaction.atomic():
            LearningPolicy.objects.select_for_update().get(pk=policy.pk)
            return _store(
                version, status=LearnedModelStatus.INSUFFICIENT_DATA, note=note, progress=100, progress_step="", **base
            )

    # The training library is loaded here, in the worker or a management command, never by
    # the web process (which imports this module for activation).
    from .boosting import train_ebm

    if version is not None:
        _progress(version, 15, f"Reading {len(outcomes):,} leads and their events")
    at = {o.lead_id: o.at for o in outcomes}
    leads = Lead.objects.in_bulk([o.lead_id for o in outcomes])
    counts = event_counts_for(list(at), until=at)
    kept = [o for o in outcomes if o.lead_id in leads]
    rows = [lead_row(leads[o.lead_id], counts.get(o.lead_id)) for o in kept]
    y = np.array([1.0 if o.positive else 0.0 for o in kept])

    def train(train_rows, train_y):
        names = _feature_names(train_rows, exclusions)
        kinds = feature_kinds(train_rows, names)
        trained = train_ebm(train_rows, train_y, names, time_ordered=True, kinds=kinds, exact=True, group=_side)
        return trained, names, kinds

    # The newest outcomes are sealed until the holdout model and its baseline are trained on
    # the older ones (features, kinds and every setting included).
    if version is not None:
        _progress(version, 30, "Training on the older outcomes")
    train_idx, test_idx = time_split(len(rows), test_share=HOLDOUT_SHARE)
    train_rows = [rows[i] for i in train_idx]
    holdout_rows = SealedRows([rows[i] for i in test_idx], y[test_idx])
    del test_idx
    holdout, holdout_names, _ = train(train_rows, y[train_idx])
    baseline = NaiveBayes(holdout_names).fit(train_rows, y[train_idx])
    if version is not None:
        _progress(version, 55, "Measuring on the newest outcomes")
    scored = holdout_rows.score({"model": holdout.model.predict, "baseline": baseline.predict})
    y_test, p_test = scored["y"], scored["model"]["p"]
    auc, nb_auc = scored["model"]["auc"], scored["baseline"]["auc"]
    if version is not None:
        _progress(version, 65, "Training on all outcomes")
    trained, names, _ = train(rows, y)
    model = trained.model
    metrics = {
        "auc_time": None if auc is None else round(auc, 4),
        "baseline_nb_auc_time": None if nb_auc is None else round(nb_auc, 4),
        "train_rows": len(train_rows),
        "holdout_rows": len(holdout_rows),
        "holdout_positive_rate": round(float(y_test.mean()), 4) if len(y_test) else None,
        "calibration": calibration_by_decile(y_test, p_test),
        "lift": lift_table(y_test, p_test),
        "trainer": model.info["trainer"],
        "settings": model.info["settings"],
        "time_proxies": model.info["time_proxies"],
        "time_proxy_choice": model.info["time_proxy_choice"],
        "validation": model.info["validation"],
        "pairs": model.info["pairs"],
        "features": names,
    }
    if version is not None:
        _progress(version, 90, "Saving the weights")
    with transaction.atomic():
        LearningPolicy.objects.select_for_update().get(pk=policy.pk)
        version = _store(
            version,
            status=LearnedModelStatus.READY,
            features=[spec.to_dict() for spec in model.specs],
            intercept=model.intercept,
            metrics=metrics,
            note="",
            progress=100,
            progress_step="",
            **base,
        )
        LearnedWeight.objects.bulk_create(
            LearnedWeight(
                model=version,
                feature=row["feature"],
                kind=row["kind"],
                value=row["value"][:255],
                lower=row["lower"],
                upper=row["upper"],
                is_missing=row["is_missing"],
                weight=row["weight"],
            )
            for row in model.weight_rows()
        )
        LearnedPairWeight.objects.bulk_create(
            LearnedPairWeight(
                model=version,
                first=row["first"],
                second=row["second"],
                first_value=row["first_value"][:255],
                second_value=row["second_value"][:255],
                weight=row["weight"],
            )
            for row in model.pair_rows()
        )
    # The library's fitted objects, for a caller in the same process (tests compare the
    # exported weights with the library's own prediction); not stored.
    version.library = trained
    return version


def _side(name: str) -> str:
    """Where the scorer computes a feature: engagement counts over the events grouped by lead,
    everything else over the lead row (pair terms stay on one side)."""
    return "events" if name.startswith(EVENTS_PREFIX) else "lead"


def _feature_names(rows: list[dict], exclusions: list[str]) -> list[str]:
    """The features these rows train: lead fields, attributes present, event kinds seen."""
    names = [n for n in LEAD_FIELDS if n not in exclusions]
    attr_names = sorted({k for row in rows for k in row if k.startswith(ATTR_PREFIX)} - set(exclusions))
    event_names = [
        EVENTS_PREFIX + kind
        for kind in EngagementKind.values
        if EVENTS_PREFIX + kind not in exclusions and any(row[EVENTS_PREFIX + kind] for row in rows)
    ]
    return names + attr_names + event_names


def learned_model_activate(*, model_id: int, actor) -> LearnedModel:
    """Make this version the one that scores leads (the previous one stops), then re-score
    every lead after commit. Only a ``ready`` version can be activated; activating the active
    one again just re-scores."""
    with transaction.atomic():
        model = LearnedModel.objects.select_for_update().filter(pk=model_id).first()
        if model is None:
            raise ValidationError({"model": "Learned model not found."})
        if model.status != LearnedModelStatus.READY:
            raise ValidationError(
                {"model": f"Version {model.version} cannot be activated: {model.get_status_display().lower()}."}
            )
        LearnedModel.objects.filter(is_active=True).exclude(pk=model.pk).update(is_active=False)
        model.is_active = True
        model.activated_by = actor
        model.activated_at = timezone.now()
        model.save(update_fields=["is_active", "activated_by", "activated_at"])
        enqueue.learned_apply(model.pk)
    return model


def learned_model_deactivate(*, actor) -> int:
    """Stop learned scoring (rules only); learned scores are cleared after commit."""
    with transaction.atomic():
        stopped = LearnedModel.objects.filter(is_active=True).update(is_active=False)
        enqueue.learned_apply(None)
    return stopped


POLICY_FIELDS = ("negative_reasons", "min_outcomes_per_class", "window_days", "default_exclusions")
# The outcomes that recycle a lead (LeadTransition's check constraint): what a policy code names.
FAILURE_OUTCOMES = (LeadOutcome.REJECTED.value, LeadOutcome.NO_CONTACT.value, LeadOutcome.LOST.value)


def learning_policy_validate(changes: dict) -> dict:
    """The cleaned changes; ValidationError naming each bad field otherwise."""
    changes = dict(changes)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Not a learning policy setting."))
    errors: dict[str, str] = {}
    if "negative_reasons" in changes:
        reasons = changes["negative_reasons"]
        if not isinstance(reasons, list) or not reasons or not all(isinstance(r, str) and r.strip() for r in reasons):
            errors["negative_reasons"] = 'A non-empty list of outcomes is required, e.g. ["lost", "no_contact"].'
        else:
            unknown = [r for r in reasons if r.partition(":")[0] not in FAILURE_OUTCOMES]
            if unknown:
                errors["negative_reasons"] = (
                    f"Not a failure outcome: {', '.join(unknown)}. Use {', '.join(FAILURE_OUTCOMES)}, "
                    'optionally with one reason ("lost:price").'
                )
    for name in ("min_outcomes_per_class", "window_days"):
        if name in changes and (not isinstance(changes[name], int) or changes[name] < 1):
            errors[name] = "A whole number of at least 1 is required."
    if "default_exclusions" in changes:
        try:
            changes["default_exclusions"] = _clean_exclusions(changes["default_exclusions"], field="default_exclusions")
        except ValidationError as exc:
            errors.update({k: "; ".join(v) for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return changes


def learning_policy_update(*, actor, **changes) -> LearningPolicy:
    """Change the learning policy; validates every field named."""
    changes = learning_policy_validate(changes)
    with transaction.atomic():
        policy = LearningPolicy.current()
        for name, value in changes.items():
            setattr(policy, name, value)
        policy.updated_by = actor
        policy.save()
    return policy
