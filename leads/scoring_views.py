"""The scoring page (/marketing/scoring/): rules, threshold and fit minimum edited with field
errors, a what-if before saving, saving with a note, the version list with restore, and the
progress of the background re-score. Marketing edits; a manager reads; a rep is refused."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from config.charts import CHART_W, svg_bars

from .models import RuleSetVersion, Segment
from .rule_sets import rule_set_restore, rule_set_save, rule_set_snapshot, rule_set_versions
from .scoring_forms import (
    EVENT_KIND_CHOICES,
    FIELD_NAMES,
    LEARNED_CHOICES,
    OPERATOR_CHOICES,
    Rows,
    add_row,
    rows_from_post,
    rows_from_snapshot,
)
from .whatif import scoring_whatif

VERSIONS_SHOWN = 30


def _can_view(user) -> bool:
    return user.has_perm("leads.view_scoringrule") and user.has_perm("leads.view_scoringpolicy")


def _can_edit(user) -> bool:
    return user.has_perm("leads.change_scoringrule") and user.has_perm("leads.change_scoringpolicy")


def _require(ok: bool) -> None:
    if not ok:
        raise PermissionDenied


def whatif_context(result: dict) -> dict:
    bins = result["bins"]
    weekly = result["weekly"]
    histogram = svg_bars(bins, ("current", "proposed"), [f"{b['lo']:g}" for b in bins])
    if bins:
        lo, hi = bins[0]["lo"], bins[-1]["hi"]
        histogram["marks"] = [
            {"key": key, "x": CHART_W * (result["threshold"][key] - lo) / (hi - lo), "value": result["threshold"][key]}
            for key in ("current", "proposed")
            if lo <= result["threshold"][key] <= hi
        ]
    return {
        "whatif": result,
        "histogram": histogram,
        "weekly_chart": svg_bars(weekly, ("current", "proposed", "actual_mqls"), [w["week"][5:] for w in weekly]),
    }


def _context(request, rows: Rows, *, whatif: dict | None = None) -> dict:
    versions = list(rule_set_versions()[:VERSIONS_SHOWN])
    return {
        "rows": rows,
        "can_edit": _can_edit(request.user),
        "versions": versions,
        "latest": versions[0] if versions else None,
        "segments": Segment.objects.only("id", "name", "is_icp").order_by("-is_icp", "name"),
        "event_kind_choices": EVENT_KIND_CHOICES,
        "learned_choices": LEARNED_CHOICES,
        "field_names": FIELD_NAMES,
        "operator_choices": OPERATOR_CHOICES,
        **(whatif_context(whatif) if whatif else {}),
    }


@login_required
def scoring_page(request):
    _require(_can_view(request.user))
    if request.method != "POST":
        return render(request, "leads/scoring.html", _context(request, rows_from_snapshot(rule_set_snapshot())))
    _require(_can_edit(request.user))
    rows = rows_from_post(request.POST)
    action = request.POST.get("action", "")
    whatif = None
    status = 200
    if action in ("add_fit", "add_engagement"):
        add_row(rows, "fit" if action == "add_fit" else "engagement")
    elif action in ("whatif", "save"):
        rules, policy = rows.as_data()
        try:
            if action == "save":
                version = rule_set_save(rules=rules, policy=policy, note=rows.note, actor=request.user)
            else:
                whatif = scoring_whatif(rules=rules, policy=policy)
        except ValidationError as exc:
            rows.set_errors(exc.message_dict)
            status = 400
        else:
            if action == "save":
                messages.success(request, f"Saved as version {version.number}; every lead is being re-scored.")
                url = reverse("leads:scoring")
                if request.headers.get("HX-Request"):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
    context = _context(request, rows, whatif=whatif)
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx responses; the field errors are in the partial.
        return render(request, "leads/_scoring_form.html", context)
    return render(request, "leads/scoring.html", context, status=status)


@login_required
@require_POST
def scoring_restore(request, pk: int):
    _require(_can_edit(request.user))
    try:
        version = rule_set_restore(version_id=pk, actor=request.user, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, f"Restored as version {version.number}; every lead is being re-scored.")
    return redirect("leads:scoring")


@login_required
def scoring_progress(request):
    _require(_can_view(request.user))
    latest = RuleSetVersion.objects.select_related("created_by").order_by("-number").first()
    return render(request, "leads/_scoring_progress.html", {"latest": latest})
