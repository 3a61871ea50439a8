"""Marketing pages: the segment list, the segment builder (htmx: live count and sample as the
definition changes) and the lead import upload."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .forms import (
    DEFAULT_CONDITION,
    FIELD_CHOICES,
    KIND_CHOICES,
    OP_CHOICES,
    ImportUploadForm,
    SegmentMetaForm,
    apply_action,
    builder_rows,
    tree_from_post,
)
from .imports import lead_import_start
from .models import LeadImport, Segment
from .segment_services import segment_create, segment_preview, segment_update
from .segments import validate_definition


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _can_edit(user) -> bool:
    return user.has_perm("leads.change_segment") and user.has_perm("leads.add_segment")


@login_required
def segment_list(request):
    _require(request, "leads.view_segment")
    segments = Segment.objects.all()
    return render(request, "leads/segment_list.html", {"segments": segments, "can_edit": _can_edit(request.user)})


def _builder_context(tree: dict, *, segment: Segment | None, meta: SegmentMetaForm, errors: dict | None = None) -> dict:
    preview = None
    if errors is None:
        try:
            validate_definition(tree)
            errors = {}
        except ValidationError as exc:
            errors = exc.message_dict
    if not errors:
        preview = segment_preview(definition=tree)
    return {
        "segment": segment,
        "meta": meta,
        "rows": builder_rows(tree),
        "errors": errors,
        "preview": preview,
        "field_choices": FIELD_CHOICES,
        "op_choices": OP_CHOICES,
        "kind_choices": KIND_CHOICES,
    }


def _versions(segment: Segment):
    return segment.versions.select_related("created_by").order_by("-version")


@login_required
def segment_new(request):
    _require(request, "leads.add_segment")
    context = _builder_context({"all": [dict(DEFAULT_CONDITION)]}, segment=None, meta=SegmentMetaForm())
    return render(request, "leads/segment_builder.html", context)


@login_required
def segment_detail(request, pk: int):
    _require(request, "leads.view_segment")
    segment = get_object_or_404(Segment, pk=pk)
    if not _can_edit(request.user):
        return render(
            request,
            "leads/segment_detail.html",
            {"segment": segment, "rows": builder_rows(segment.definition), "versions": _versions(segment)},
        )
    meta = SegmentMetaForm(initial={"name": segment.name, "description": segment.description, "is_icp": segment.is_icp})
    context = _builder_context(segment.definition, segment=segment, meta=meta)
    context["versions"] = _versions(segment)
    return render(request, "leads/segment_builder.html", context)


@login_required
@require_POST
def segment_builder(request):
    """One endpoint for every builder interaction: rebuild the tree from the inputs, apply the
    clicked action (add / remove / save), and re-render the builder with a fresh count and
    sample. htmx swaps the partial in; without JavaScript the full page comes back."""
    _require(request, "leads.change_segment")
    segment = None
    if request.POST.get("segment_id", "").isdigit():
        segment = get_object_or_404(Segment, pk=int(request.POST["segment_id"]))
    tree = tree_from_post(request.POST)
    action = request.POST.get("action", "")
    if action == "save":
        meta = SegmentMetaForm(request.POST)
    else:  # live updates keep what was typed without complaining about a name not given yet
        meta = SegmentMetaForm(
            initial={
                "name": request.POST.get("name", ""),
                "description": request.POST.get("description", ""),
                "is_icp": bool(request.POST.get("is_icp")),
            }
        )
    errors = None
    if action == "save":
        if meta.is_valid():
            data = meta.cleaned_data
            try:
                if segment is None:
                    segment = segment_create(actor=request.user, definition=tree, **data)
                else:
                    segment = segment_update(segment_id=segment.pk, actor=request.user, definition=tree, **data)
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                messages.success(request, f"Saved '{segment.name}' as version {segment.version}.")
                url = reverse("leads:segment-detail", args=[segment.pk])
                if request.headers.get("HX-Request"):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
    else:
        tree = apply_action(tree, action)
    context = _builder_context(tree, segment=segment, meta=meta, errors=errors)
    if segment is not None:
        context["versions"] = _versions(segment)
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx responses; the errors are in the partial.
        return render(request, "leads/_builder.html", context)
    return render(request, "leads/segment_builder.html", context, status=400 if action == "save" else 200)


# --- Lead import upload ------------------------------------------------------------------------


@login_required
def import_list(request):
    _require(request, "leads.add_lead")
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            job = lead_import_start(
                upload=form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
                update_existing=form.cleaned_data["update_existing"],
                actor=request.user,
            )
            return redirect("leads:import-detail", pk=job.pk)
        status = 400
    else:
        form, status = ImportUploadForm(), 200
    jobs = LeadImport.objects.select_related("created_by")[:20]
    return render(request, "leads/import_list.html", {"form": form, "jobs": jobs}, status=status)


@login_required
def import_detail(request, pk: int):
    _require(request, "leads.add_lead")
    job = get_object_or_404(LeadImport, pk=pk)
    template = "leads/_import_progress.html" if request.headers.get("HX-Request") else "leads/import_detail.html"
    return render(request, template, {"job": job})
