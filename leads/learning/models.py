"""Learned scoring: the training policy, model versions and their weights tables."""

from django.conf import settings
from django.db import models
from django.db.models import Q


def default_negative_reasons() -> list[str]:
    return ["lost:", "rejected:", "no_contact"]


class LearningPolicy(models.Model):
    """The single learning policy row (pk 1): which outcomes train the model and how much is
    needed."""

    negative_reasons = models.JSONField(
        default=default_negative_reasons,
        help_text="Sales outcomes of a recycle that count as a failure: an outcome for every reason "
        '("lost", "rejected", "no_contact"; "lost:" is the same as "lost") or an outcome and one '
        'reason ("lost:price").',
    )
    min_outcomes_per_class = models.PositiveIntegerField(
        default=30, help_text="Won and failed outcomes each needed before a model is trained."
    )
    window_days = models.PositiveIntegerField(
        default=730, help_text="Only outcomes from the last this many days train the model."
    )
    default_exclusions = models.JSONField(
        default=list,
        blank=True,
        help_text="Features left out of every training unless the trainer says otherwise, "
        'e.g. ["attr.call_minutes"] for values known only after the outcome.',
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "learning policy"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="learning_policy_singleton"),
            models.CheckConstraint(condition=Q(min_outcomes_per_class__gte=1), name="learning_min_outcomes_positive"),
            models.CheckConstraint(condition=Q(window_days__gte=1), name="learning_window_positive"),
        ]

    def __str__(self) -> str:
        return f"Learn from {self.window_days} days, at least {self.min_outcomes_per_class} of each outcome"

    @classmethod
    def current(cls) -> "LearningPolicy":
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class LearnedModelStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Training"
    READY = "ready", "Ready"
    INSUFFICIENT_DATA = "insufficient_data", "Not enough outcomes"
    FAILED = "failed", "Failed"


# A version in one of these is still being made; the page polls it.
TRAINING_STATUSES = (LearnedModelStatus.QUEUED, LearnedModelStatus.RUNNING)


class LearnedModelQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def ready(self):
        return self.filter(status=LearnedModelStatus.READY)


class LearnedModel(models.Model):
    """One training run: a version of the model with everything needed to apply, explain and
    judge it. Versions are never changed after training, except who activated them."""

    version = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=20, choices=LearnedModelStatus.choices)
    note = models.TextField(blank=True, help_text="Why the run did not produce a model, if it did not.")
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent of the training run done.")
    progress_step = models.CharField(max_length=100, blank=True, help_text="What the training run is doing now.")
    window_start = models.DateTimeField(help_text="Outcomes from this time ...")
    window_end = models.DateTimeField(help_text="... up to this time trained the model.")
    excluded_features = models.JSONField(default=list, blank=True, help_text="Features the trainer left out.")
    negative_reasons = models.JSONField(default=list, help_text="The failure reasons counted, as in the policy then.")
    features = models.JSONField(
        default=list, blank=True, help_text="How each feature is encoded (kind, quantile bin edges, values)."
    )
    intercept = models.FloatField(default=0)
    positives = models.PositiveIntegerField(default=0)
    negatives = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(
        default=dict,
        blank=True,
        help_text="ROC AUC on the time-ordered holdout (and the naive Bayes baseline's), calibration by "
        "decile, lift table, the trainer's settings and the time-proxy choice.",
    )
    is_active = models.BooleanField(default=False)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trained_at = models.DateTimeField()
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)

    objects = LearnedModelQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="learned_model_single_active"
            ),
            models.CheckConstraint(
                condition=Q(status__in=LearnedModelStatus.values), name="learned_model_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(status=LearnedModelStatus.READY),
                name="learned_model_active_is_ready",
            ),
        ]

    def __str__(self) -> str:
        return f"Learned model v{self.version}" + (" (active)" if self.is_active else "")

    @property
    def auc(self) -> float | None:
        return (self.metrics or {}).get("auc_time")

    @property
    def baseline_auc(self) -> float | None:
        return (self.metrics or {}).get("baseline_nb_auc_time")

    @property
    def is_weak(self) -> bool:
        """Measured, but ranks the held-out outcomes little better than chance."""
        return self.auc is not None and self.auc < WEAK_AUC


# Below this ROC AUC on the time holdout the page warns that a version barely ranks.
WEAK_AUC = 0.6


class LearnedWeight(models.Model):
    """One row of a version's weights table: a feature value (a categorical value, a numeric
    bin ``lower <= x < upper`` or missing) and its weight in the logit."""

    model = models.ForeignKey(LearnedModel, on_delete=models.CASCADE, related_name="weights")
    feature = models.CharField(max_length=150)
    kind = models.CharField(max_length=12)
    value = models.CharField(max_length=255)
    lower = models.FloatField(null=True, blank=True)
    upper = models.FloatField(null=True, blank=True)
    is_missing = models.BooleanField(default=False)
    weight = models.FloatField()

    class Meta:
        ordering = ["model", "feature", "id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "feature", "value"], name="learned_weight_unique_value"),
        ]

    def __str__(self) -> str:
        return f"{self.feature} = {self.value}: {self.weight:+.2f}"


class LearnedPairWeight(models.Model):
    """One cell of a version's two-field table: the weight in the logit of a lead whose
    ``first`` field reads ``first_value`` and whose ``second`` field reads ``second_value``
    (numeric fields by the pair's bins, ``FeatureSpec.pair_edges``)."""

    model = models.ForeignKey(LearnedModel, on_delete=models.CASCADE, related_name="pair_weights")
    first = models.CharField(max_length=150)
    second = models.CharField(max_length=150)
    first_value = models.CharField(max_length=255)
    second_value = models.CharField(max_length=255)
    weight = models.FloatField()

    class Meta:
        ordering = ["model", "first", "second", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "first", "second", "first_value", "second_value"], name="learned_pair_weight_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first} x {self.second} = {self.first_value} x {self.second_value}: {self.weight:+.2f}"
