"""The duplicates list (/marketing/duplicates/): pairs that look like one person, with the
reason; a marketer dismisses a pair that is two people, or merges it on a side-by-side page
that chooses field by field (``leads.merging``). Marketing, and sales managers (who alone merge
two reps' leads); never reps."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from config.roles import is_manager, is_marketer

from .duplicates import duplicate_dismiss, duplicate_pairs_open
from .merging import fields_differing, lead_merge, merge_needs_manager, survivor_proposed
from .models import DuplicatePair

PAGE_SIZE = 50


def _require_marketer(user) -> None:
    if not (is_marketer(user) or is_manager(user)):
        raise PermissionDenied


@login_required
def duplicate_list(request):
    _require_marketer(request.user)
    page = Paginator(duplicate_pairs_open(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "leads/duplicate_list.html", {"page": page})


@login_required
@require_POST
def duplicate_dismiss_view(request, pk: int):
    _require_marketer(request.user)
    if duplicate_dismiss(pair_id=pk, actor=request.user):
        messages.success(request, "Dismissed: they stay two leads.")
    else:
        messages.error(request, "That pair is not open any more.")
    return redirect("leads:duplicate-list")


@login_required
def duplicate_merge(request, pk: int):
    """GET: the two leads side by side, a radio per differing field (the survivor's value
    chosen); POST: merge (field errors shown on the page; two reps' leads need a manager)."""
    _require_marketer(request.user)
    pair = get_object_or_404(DuplicatePair.objects.select_related("lead_a", "lead_b"), pk=pk, dismissed=False)
    a, b = pair.lead_a, pair.lead_b
    survivor = survivor_proposed(a, b)
    chosen = {"survivor": str(survivor.pk)}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        chosen = {key: value for key, value in request.POST.items() if key != "csrfmiddlewaretoken"}
        survivor_id = chosen.get("survivor", "")
        if survivor_id not in (str(a.pk), str(b.pk)):
            errors["survivor"] = f"Choose lead {a.pk} or lead {b.pk} to keep."
        else:
            merged_id = b.pk if survivor_id == str(a.pk) else a.pk
            choices = {k.removeprefix("field_"): v for k, v in chosen.items() if k.startswith("field_")}
            try:
                merge = lead_merge(
                    survivor_id=int(survivor_id), merged_id=merged_id, choices=choices, actor=request.user
                )
            except ValidationError as error:
                errors = {k: " ".join(v) for k, v in error.message_dict.items()}
            except PermissionDenied as error:
                errors["permission"] = str(error)
                status = 403
            else:
                messages.success(request, f"Lead {merge.merged_lead_id} was merged into lead {merge.survivor_id}.")
                return redirect("leads:duplicate-list")
        if errors and status == 200:
            status = 400
    rows = [
        {
            "name": name,
            "label": a._meta.get_field(name).verbose_name.capitalize(),
            "a": getattr(a, name),
            "b": getattr(b, name),
            "chosen": chosen.get(f"field_{name}", chosen.get("survivor", str(survivor.pk))),
            "error": errors.get(name, ""),
        }
        for name in fields_differing(a, b)
    ]
    field_errors = {k: v for k, v in errors.items() if k not in {r["name"] for r in rows}}
    context = {
        "pair": pair,
        "a": a,
        "b": b,
        "survivor_chosen": chosen.get("survivor", str(survivor.pk)),
        "rows": rows,
        "errors": field_errors,
        "needs_manager": merge_needs_manager(a, b),
        "can_merge": not merge_needs_manager(a, b) or is_manager(request.user),
    }
    return render(request, "leads/duplicate_merge.html", context, status=status)
