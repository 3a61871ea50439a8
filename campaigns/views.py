"""Marketer pages: campaigns (members from a segment, responses, influence) and the collateral
library (upload, tag, version, archive, usage). Marketing writes; managers read; reps read
the library. Each view parses input, checks the role, calls one service or selector."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.roles import is_marketer
from leads.api import Lead

from . import selectors
from .forms import (
    CampaignForm,
    CollateralEditForm,
    CollateralForm,
    InfluenceForm,
    MemberAddForm,
    MemberStatusForm,
    SegmentAddForm,
    VersionUploadForm,
    add_service_errors,
)
from .models import Campaign, CampaignMember, Collateral
from .services import campaigns as campaign_services
from .services import collateral as collateral_services
from .validators import request_too_large

PAGE_SIZE = 50


def role_required(check):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


marketing_only = role_required(is_marketer)
reads_all = role_required(selectors.reads_all)
any_role = role_required(selectors.has_role)


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


# --- Campaigns ---------------------------------------------------------------------------------


@reads_all
@require_GET
def campaign_list(request):
    campaigns = selectors.campaign_list_for_user(user=request.user).order_by("-created_at", "pk")
    return render(request, "campaigns/campaign_list.html", {"page": _page(request, campaigns)})


@marketing_only
def campaign_create(request):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        try:
            campaign = campaign_services.campaign_create(
                actor=request.user, name=data.pop("name"), kind=data.pop("kind"), **data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Campaign '{campaign.name}' created.")
            return redirect("campaigns:campaign-detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": None})


@marketing_only
def campaign_edit(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    initial = {
        "name": campaign.name,
        "kind": campaign.kind,
        "status": campaign.status,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "budget": campaign.budget,
        "actual_cost": campaign.actual_cost,
        "target_segment": campaign.target_segment_id,
        "goal": campaign.goal,
    }
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            campaign_services.campaign_update(campaign_id=campaign.pk, actor=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Campaign saved.")
            return redirect("campaigns:campaign-detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign})


@reads_all
@require_GET
def campaign_detail(request, pk: int):
    campaign = get_object_or_404(selectors.campaign_list_for_user(user=request.user), pk=pk)
    members = selectors.campaign_members_for_user(campaign=campaign, user=request.user).order_by("-added_at", "-pk")
    return render(
        request,
        "campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "page": _page(request, members),
            "segment_form": SegmentAddForm(),
            "member_form": MemberAddForm(),
            "influence_form": InfluenceForm(),
            "statuses": MemberStatusForm.base_fields["status"].choices,
            "can_edit": is_marketer(request.user),
        },
    )


@marketing_only
@require_POST
def campaign_members_add(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    form = SegmentAddForm(request.POST)
    if form.is_valid():
        segment = form.cleaned_data["segment"]
        try:
            result = campaign_services.campaign_members_add_from_segment(
                campaign_id=campaign.pk, segment_id=segment.pk if segment else None, actor=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, result.message())
    else:
        messages.error(request, "Choose a segment.")
    return redirect("campaigns:campaign-detail", pk=campaign.pk)


@marketing_only
@require_POST
def campaign_member_add(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the lead's email address.")
        return redirect("campaigns:campaign-detail", pk=campaign.pk)
    lead = Lead.objects.filter(email__iexact=form.cleaned_data["lead_email"]).first()
    try:
        if lead is None:
            raise ValidationError({"lead_email": f"No lead with the email {form.cleaned_data['lead_email']}."})
        campaign_services.campaign_member_add(campaign_id=campaign.pk, lead_id=lead.pk, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{lead.email} added.")
    return redirect("campaigns:campaign-detail", pk=campaign.pk)


@marketing_only
@require_POST
def campaign_members_sent(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        changed = campaign_services.campaign_members_mark_sent(campaign_id=campaign.pk, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{changed:,} member{'' if changed == 1 else 's'} marked as sent.")
    return redirect("campaigns:campaign-detail", pk=campaign.pk)


def _member_row(request, member_id: int, error: str = ""):
    member = CampaignMember.objects.select_related("lead", "lead__owner", "campaign").get(pk=member_id)
    return render(
        request,
        "campaigns/_member_row.html",
        {
            "member": member,
            "campaign": member.campaign,
            "can_edit": True,
            "statuses": MemberStatusForm.base_fields["status"].choices,
            "error": error,
        },
    )


@marketing_only
@require_POST
def campaign_member_response(request, pk: int, member_id: int):
    member = get_object_or_404(CampaignMember, pk=member_id, campaign_id=pk)
    error = ""
    try:
        campaign_services.campaign_response_record(campaign_id=pk, lead_id=member.lead_id, actor=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    return _member_row(request, member.pk, error)


@marketing_only
@require_POST
def campaign_member_status(request, pk: int, member_id: int):
    member = get_object_or_404(CampaignMember, pk=member_id, campaign_id=pk)
    form = MemberStatusForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            campaign_services.campaign_member_status_set(
                member_id=member.pk, status=form.cleaned_data["status"], actor=request.user
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = "Choose a status."
    return _member_row(request, member.pk, error)


@reads_all
@require_GET
def campaign_influence_panel(request, pk: int):
    """Won and lost outcomes (as sales reported them to marketing) of this campaign's members,
    credited under the chosen model. Amounts are not known to marketing, so credit is in deals."""
    campaign = get_object_or_404(Campaign, pk=pk)
    form = InfluenceForm(request.GET or None)
    model = form.cleaned_data["model"] if form.is_valid() and form.cleaned_data["model"] else "even"
    context = selectors.campaign_outcome_influence(campaign=campaign, model=model)
    return render(
        request,
        "campaigns/_influence.html",
        {"campaign": campaign, "form": InfluenceForm(initial={"model": model}), **context},
    )


# --- The collateral library ------------------------------------------------------------------


@any_role
@require_GET
def library(request):
    user = request.user
    show = request.GET.get("show", "")
    items = selectors.collateral_list_for_user(user=user, include_archived=(show == "archived"))
    if show == "stale":
        items = items.filter(is_stale=True)
    elif show == "archived":
        items = items.filter(is_archived=True)
    if selectors.reads_all(user):
        items = selectors.collateral_with_outcome_usage(items)
    page = _page(request, items.order_by("title", "pk"))
    if selectors.reads_all(user) and page.object_list:
        selectors.attach_win_rates(page.object_list, totals=selectors.outcome_totals())
    return render(
        request,
        "campaigns/library.html",
        {"page": page, "show": show, "can_edit": is_marketer(user), "reads_all": selectors.reads_all(user)},
    )


@marketing_only
def collateral_create(request):
    too_large = request_too_large(request) if request.method == "POST" else None
    if too_large is not None:
        # The body is not read at all (request.POST would read it), so the form starts empty.
        context = {"form": CollateralForm(), "item": None, "upload_error": " ".join(too_large.messages)}
        return render(request, "campaigns/collateral_form.html", context, status=400)
    form = CollateralForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = collateral_services.collateral_create(
                actor=request.user,
                title=data["title"],
                kind=data["kind"],
                file=data["file"],
                url=data["url"],
                approved_segment_ids=[s.pk for s in data["approved_segments"]],
                **form.tag_fields(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"'{item.title}' added to the library.")
            return redirect("campaigns:collateral-detail", pk=item.pk)
    return render(request, "campaigns/collateral_form.html", {"form": form, "item": None})


def _visible_item(request, pk: int) -> Collateral:
    return get_object_or_404(selectors.collateral_list_for_user(user=request.user), pk=pk)


@any_role
@require_GET
def collateral_detail(request, pk: int):
    item = _visible_item(request, pk)
    reads_all_ = selectors.reads_all(request.user)
    shares = selectors.collateral_shares_for_user(user=request.user, collateral=item).order_by("-shared_at")[:50]
    return render(
        request,
        "campaigns/collateral_detail.html",
        {
            "item": item,
            "versions": selectors.collateral_versions(collateral=item) if reads_all_ else [],
            "shares": shares,
            "upload_form": VersionUploadForm(),
            "can_edit": is_marketer(request.user),
            "reads_all": reads_all_,
        },
    )


@marketing_only
def collateral_edit(request, pk: int):
    item = get_object_or_404(Collateral, pk=pk)
    initial = {
        "title": item.title,
        "kind": item.kind,
        "url": item.url,
        "industries": ", ".join(item.industries),
        "products": ", ".join(item.products),
        "funnel_stage": item.funnel_stage,
        "objection_categories": item.objection_categories,
        "approved_segments": list(item.approved_segments.values_list("pk", flat=True)),
        "expires_on": item.expires_on,
    }
    is_file = item.current_version_id is not None
    form = CollateralEditForm(request.POST or None, initial=initial, is_file=is_file)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {"title": data["title"], "kind": data["kind"], **form.tag_fields()}
        if not is_file:
            fields["url"] = data["url"]
        try:
            collateral_services.collateral_update(
                collateral_id=item.pk,
                actor=request.user,
                approved_segment_ids=[s.pk for s in data["approved_segments"]],
                **fields,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("campaigns:collateral-detail", pk=item.pk)
    return render(request, "campaigns/collateral_form.html", {"form": form, "item": item})


@marketing_only
@require_POST
def collateral_version_upload(request, pk: int):
    item = get_object_or_404(Collateral, pk=pk)
    too_large = request_too_large(request)
    if too_large is not None:
        messages.error(request, " ".join(too_large.messages))
        return redirect("campaigns:collateral-detail", pk=item.pk)
    form = VersionUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to upload.")
    else:
        try:
            version = collateral_services.collateral_version_add(
                collateral_id=item.pk, file=form.cleaned_data["file"], actor=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Version {version.number} uploaded; reps now get it.")
    return redirect("campaigns:collateral-detail", pk=item.pk)


@marketing_only
@require_POST
def collateral_archive(request, pk: int):
    item = get_object_or_404(Collateral, pk=pk)
    archived = request.POST.get("archived", "1") == "1"
    collateral_services.collateral_archive(collateral_id=item.pk, actor=request.user, archived=archived)
    messages.success(request, f"'{item.title}' {'archived' if archived else 'restored'}.")
    return redirect("campaigns:collateral-detail", pk=item.pk)


@any_role
@require_GET
def collateral_download(request, pk: int, number: int | None = None):
    """Staff open an item's file: reps only the current version, marketing and managers any."""
    item = _visible_item(request, pk)
    if number is None:
        version = item.current_version
    elif selectors.reads_all(request.user):
        version = item.versions.filter(number=number).first()
    else:
        version = None
    if version is None:
        raise Http404
    try:
        handle = version.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type=version.content_type, filename=version.original_name)
    response["Cache-Control"] = "private, no-store"
    return response
