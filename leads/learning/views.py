"""The marketer's learned-scoring page: versions with metrics and lift, the strongest
weights, compare with the active version, train and activate. Reps and managers read it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from leads.models import ScoringPolicy

from .features import LEAD_FIELDS
from .models import TRAINING_STATUSES, LearnedModel, LearnedModelStatus, LearningPolicy
from .selectors import (
    learned_model_compare,
    learned_model_latest_refusal,
    learned_model_list,
    learned_model_top_weights,
)
from .services import exclusions_validate, learned_model_activate, learned_model_queue


class TrainForm(forms.Form):
    excluded_features = forms.CharField(
        label="Leave out these features",
        required=False,
        help_text="Comma-separated, e.g. attr.call_minutes, events.webinar. Values known only after "
        "the outcome must be left out. Empty: the policy's default exclusions.",
        widget=forms.TextInput(attrs={"size": 60}),
    )


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _selected(request, versions: list[LearnedModel], active: LearnedModel | None) -> LearnedModel | None:
    wanted = request.GET.get("version")
    if wanted and wanted.isdigit():
        return next((v for v in versions if v.version == int(wanted)), None)
    ready = [v for v in versions if v.status == LearnedModelStatus.READY]
    return active or (ready[0] if ready else None)


@login_required
def learned_scoring(request, form: TrainForm | None = None):
    _require(request, "learning.view_learnedmodel")
    versions = list(learned_model_list()[:50])
    active = next((v for v in versions if v.is_active), None)
    selected = _selected(request, versions, active)
    compare = None
    if selected and active and selected.pk != active.pk and selected.status == LearnedModelStatus.READY:
        compare = learned_model_compare(selected, active)
    context = {
        "versions": versions,
        "active": active,
        "selected": selected,
        "top": learned_model_top_weights(selected)
        if selected and selected.status == LearnedModelStatus.READY
        else None,
        "compare": compare,
        "training": [v for v in versions if v.status in TRAINING_STATUSES],
        "refusal": learned_model_latest_refusal() if active is None else None,
        "scoring_policy": ScoringPolicy.current(),
        "learning_policy": LearningPolicy.current(),
        "form": form or TrainForm(),
        "lead_fields": list(LEAD_FIELDS),
        "can_train": request.user.has_perm("learning.add_learnedmodel"),
        "can_activate": request.user.has_perm("learning.change_learnedmodel"),
    }
    return render(request, "learning/learned_scoring.html", context, status=400 if form and form.errors else 200)


@login_required
@require_POST
def learned_train(request):
    _require(request, "learning.add_learnedmodel")
    form = TrainForm(request.POST)
    if form.is_valid():
        raw = form.cleaned_data["excluded_features"]
        excluded = [x.strip() for x in raw.split(",") if x.strip()] if raw.strip() else None
        try:
            excluded = exclusions_validate(excluded) if excluded is not None else None
        except ValidationError as exc:
            for message in exc.message_dict["excluded_features"]:
                form.add_error("excluded_features", message)
        else:
            version = learned_model_queue(actor=request.user, excluded_features=excluded)
            messages.success(
                request, f"Training of version {version.version} queued; its progress shows below until it is done."
            )
            return redirect("learning:learned-scoring")
    return learned_scoring(request, form=form)


@login_required
def learned_training_progress(request):
    """The training panel, polled by htmx every 2 s while a version is queued or running. Once
    none is, the page reloads (``HX-Refresh``) to show the finished version in the table."""
    _require(request, "learning.view_learnedmodel")
    training = list(learned_model_list().filter(status__in=TRAINING_STATUSES))
    if not training and request.headers.get("HX-Request"):
        response = HttpResponse(status=200)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "learning/_training.html", {"training": training})


@login_required
@require_http_methods(["GET", "POST"])
def learned_activate(request, pk: int):
    """GET: the confirmation page (what activating does, the weak-signal warning). POST with
    ``confirm``: activate. A POST without it only shows the confirmation page again, so a
    version is never activated by one stray click."""
    _require(request, "learning.change_learnedmodel")
    model = get_object_or_404(LearnedModel, pk=pk)
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        active = LearnedModel.objects.active().first()
        return render(request, "learning/activate_confirm.html", {"model": model, "active": active})
    try:
        learned_model_activate(model_id=model.pk, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Version {model.version} is active; every lead is being re-scored.")
    return redirect("learning:learned-scoring")
