"""The rep's pages: the call list and the lead page (call form, accept/reject, convert); the
deal board is in ``views_deals``. Views parse input, check the role, call one service or selector, and render."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from campaigns import api as campaigns_api
from config.roles import is_manager, is_rep
from leads import api as leads_api

from .forms import (
    CallForm,
    ConvertForm,
    ObjectionFormSet,
    RejectForm,
    add_service_errors,
    objection_rows,
)
from .models import Assignment, AssignmentStatus
from .selectors import (
    call_list_for_rep,
    lead_get_for_user,
    lead_page_data,
)
from .services.calls import call_log
from .services.deals import deal_convert
from .services.handoff import assignment_accept, assignment_reject


def sales_required(view):
    """Logged in as a rep or a manager; marketing gets a 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (is_rep(request.user) or is_manager(request.user)):
            raise PermissionDenied("The sales workspace is for sales reps and managers.")
        return view(request, *args, **kwargs)

    return wrapped


def _lead_or_404(request, lead_id):
    lead = lead_get_for_user(user=request.user, lead_id=lead_id)
    if lead is None:
        raise Http404("No such lead.")
    return lead


# --- The call list ----------------------------------------------------------------------------


CALL_LIST_PAGE_SIZE = 50
CALL_LIST_MAX_PAGES = 100  # 5,000 rows: a later page reads every row above it


def _call_list_page(request) -> int | None:
    page = request.GET.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= CALL_LIST_MAX_PAGES:
        return None
    return int(page)


@require_GET
@sales_required
def call_list(request):
    """A rep's own list (a manager who is not a rep gets the team instead: ``views_team``).

    50 rows a page; "Show the next 50" fetches the next page's rows with htmx (the
    ``HX-Request`` header) and appends them, or without JavaScript opens ``?page=N``.
    """
    page = _call_list_page(request)
    if page is None:
        return HttpResponseBadRequest(f"page: Enter a whole number from 1 to {CALL_LIST_MAX_PAGES}.")
    rep = request.user
    offset = (page - 1) * CALL_LIST_PAGE_SIZE
    # One row more than a page says whether there is a next page.
    rows = call_list_for_rep(rep=rep, limit=CALL_LIST_PAGE_SIZE + 1, offset=offset)
    more_url = None
    if len(rows) > CALL_LIST_PAGE_SIZE and page < CALL_LIST_MAX_PAGES:
        params = request.GET.copy()
        params["page"] = str(page + 1)
        more_url = f"?{params.urlencode()}"
    url_pattern = reverse("crm:lead-detail", kwargs={"lead_id": 999999999}).replace("999999999", "{}")
    display = [row.display(url_pattern=url_pattern) for row in rows[:CALL_LIST_PAGE_SIZE]]
    context = {
        "rows": display,
        "first_rank": offset + 1,
        # Later pages (appended by htmx or opened without JavaScript) focus their first lead.
        "focus_first_row": page > 1,
        "page": page,
        "page_size": CALL_LIST_PAGE_SIZE,
        "more_url": more_url,
        "next_row": display[0] if display and page == 1 else None,
    }
    # ?fragment=rows: the rows alone, re-fetched by static/live.js when a new lead arrives.
    if (request.headers.get("HX-Request") and page > 1) or request.GET.get("fragment") == "rows":
        response = render(request, "crm/_call_list_rows.html", context)
    else:
        response = render(request, "crm/call_list.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@sales_required
def next_call(request):
    rows = call_list_for_rep(rep=request.user, limit=1)
    if not rows:
        messages.info(request, "Nothing left to call.")
        return redirect("crm:call-list")
    return redirect("crm:lead-detail", lead_id=rows[0].lead.pk)


# --- The lead page ------------------------------------------------------------------------------


def _collateral(lead, objection_categories):
    suggestions = campaigns_api.collateral_suggestions(
        lead=lead, objection_categories=tuple(objection_categories), limit=5
    )
    return list(suggestions)


def _lead_page(
    request, lead, *, call_form=None, objection_formset=None, reject_form=None, convert_form=None, status=200
):
    data = lead_page_data(lead=lead, user=request.user)
    suggestions = _collateral(lead, {o.category for o in data["objections"]})
    collateral_choices = [(s.collateral.pk, s.collateral.title) for s in suggestions]
    if objection_formset is None:
        objection_formset = ObjectionFormSet(
            prefix="objections", form_kwargs={"collateral_choices": collateral_choices}
        )
    assignment = data["assignment"]
    context = {
        "lead": lead,
        **data,
        "suggestions": suggestions,
        "call_form": call_form or CallForm(),
        "objection_formset": objection_formset,
        "reject_form": reject_form or RejectForm(),
        "convert_form": convert_form or ConvertForm(),
        "can_answer": assignment is not None and assignment.status == AssignmentStatus.ASSIGNED,
        "can_reject": assignment is not None
        and assignment.status in (AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED)
        and lead.stage in ("handed_off", "sal"),
        "can_convert": lead.stage == "sal",
        "contact": getattr(lead, "contact", None),
        "consents": leads_api.consent_overview(lead.pk),
        "next_url": reverse("crm:lead-detail", kwargs={"lead_id": lead.pk}) + "#consent",
        # Only a lead the active model has scored has learned reasons; skip the lookups otherwise.
        "learned_reasons": leads_api.learned_reasons_for_lead(lead)[:6] if lead.learned_score is not None else [],
    }
    return render(request, "crm/lead_detail.html", context, status=status)


@require_GET
@sales_required
def lead_detail(request, lead_id):
    return _lead_page(request, _lead_or_404(request, lead_id))


@require_POST
@sales_required
def lead_log_call(request, lead_id):
    lead = _lead_or_404(request, lead_id)
    objection_categories = lead.objections.values_list("category", flat=True)
    suggestions = _collateral(lead, set(objection_categories))
    collateral_choices = [(s.collateral.pk, s.collateral.title) for s in suggestions]
    form = CallForm(request.POST)
    formset = ObjectionFormSet(
        request.POST, prefix="objections", form_kwargs={"collateral_choices": collateral_choices}
    )
    if form.is_valid() and formset.is_valid():
        try:
            call_log(
                rep=request.user,
                lead_id=lead.pk,
                outcome=form.cleaned_data["outcome"],
                duration_seconds=form.duration_seconds(),
                notes=form.cleaned_data["notes"],
                next_step_at=form.cleaned_data["next_step_at"],
                objections=objection_rows(formset),
            )
        except ValidationError as error:
            _service_errors_to_forms(error, form, formset)
        else:
            messages.success(request, "Call logged.")
            return redirect(reverse("crm:lead-detail", kwargs={"lead_id": lead.pk}) + "#timeline")
    return _lead_page(request, lead, call_form=form, objection_formset=formset, status=400)


def _service_errors_to_forms(error, form, formset) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages_ in error.message_dict.items():
        if key.startswith("objections."):
            _prefix, index, field = (key.split(".") + ["", ""])[:3]
            if index.isdigit() and int(index) < len(formset.forms):
                # Only filled-in fieldsets are sent, in order; find the n-th filled one.
                filled = [f for f in formset.forms if (getattr(f, "cleaned_data", None) or {}).get("category")]
                target = filled[int(index)] if int(index) < len(filled) else formset.forms[int(index)]
                target.add_error(field if field in target.fields else None, messages_)
                continue
        target = CallForm.SERVICE_FIELDS.get(key, key)
        form.add_error(target if target in form.fields else None, messages_)


def _open_assignment(lead):
    return Assignment.objects.active().filter(lead=lead).first()


@require_POST
@sales_required
def lead_accept(request, lead_id):
    lead = _lead_or_404(request, lead_id)
    assignment = _open_assignment(lead)
    if assignment is None:
        messages.error(request, "This lead has no open assignment to accept.")
    else:
        try:
            assignment_accept(assignment_id=assignment.pk, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Lead accepted.")
    return redirect("crm:lead-detail", lead_id=lead.pk)


@require_POST
@sales_required
def lead_reject(request, lead_id):
    lead = _lead_or_404(request, lead_id)
    form = RejectForm(request.POST)
    assignment = _open_assignment(lead)
    if form.is_valid() and assignment is not None:
        try:
            assignment_reject(
                assignment_id=assignment.pk,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error, {"status": None})
        else:
            messages.success(request, "Lead sent back to marketing.")
            return redirect("crm:call-list")
    elif assignment is None:
        form.add_error(None, "This lead has no open assignment to reject.")
    return _lead_page(request, lead, reject_form=form, status=400)


@require_POST
@sales_required
def lead_convert(request, lead_id):
    lead = _lead_or_404(request, lead_id)
    form = ConvertForm(request.POST)
    if form.is_valid():
        try:
            deal = deal_convert(
                lead_id=lead.pk,
                actor=request.user,
                amount=form.cleaned_data["amount"],
                name=form.cleaned_data["name"],
                expected_close_on=form.cleaned_data["expected_close_on"],
            )
        except ValidationError as error:
            add_service_errors(form, error, {"lead_id": None})
        else:
            messages.success(request, f"Deal “{deal.name}” created.")
            return redirect("crm:deal-list")
    return _lead_page(request, lead, convert_form=form, status=400)


@require_POST
@sales_required
def lead_share_collateral(request, lead_id):
    lead = _lead_or_404(request, lead_id)
    try:
        share = campaigns_api.collateral_share(
            collateral_id=request.POST.get("collateral_id"), lead_id=lead.pk, actor=request.user
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        link = request.build_absolute_uri(f"/c/{share.token}/")
        messages.success(request, f"Shared “{share.collateral.title}”: {link}")
    return redirect("crm:lead-detail", lead_id=lead.pk)
