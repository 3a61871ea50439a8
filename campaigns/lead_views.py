"""Marketing's lead pages: the list (/marketing/leads/) with filters, sorting, saved views,
keyset pages, bulk actions and CSV export. Marketing only: a rep or a manager is refused."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from leads.api import (
    DISQUALIFY_REASONS,
    Lead,
    LeadSource,
    Segment,
    consent_overview,
    lead_edit,
    leads_disqualify,
    leads_mark_do_not_contact,
    learned_reasons_for_lead,
)

from .lead_workspace import SORT_LABELS, LeadFilterForm, csv_rows, lead_page, owner_choices
from .models import Campaign, CampaignMember, SavedLeadView
from .services.lead_bulk import campaign_members_add_leads
from .views import marketing_only

LIST_URL = "/marketing/leads/"


def _list_context(request, form, rows, next_cursor):
    query = request.GET.copy()
    query.pop("after", None)
    next_query = None
    if next_cursor:
        nxt = query.copy()
        nxt["after"] = next_cursor
        next_query = nxt.urlencode()
    return {
        "form": form,
        "rows": rows,
        "next_query": next_query,
        "first_query": query.urlencode(),
        "is_later_page": bool(request.GET.get("after")),
        "query": query.urlencode(),
        "saved_views": SavedLeadView.objects.filter(owner=request.user),
        "campaigns": Campaign.objects.exclude(status__in=("completed", "cancelled")).order_by("name"),
        "segments": Segment.objects.only("id", "name", "is_icp").order_by("name"),
        "owners": owner_choices(),
        "reasons": DISQUALIFY_REASONS,
        "sort_labels": SORT_LABELS,
    }


@marketing_only
def lead_list(request):
    form = LeadFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "campaigns/lead_list.html", _list_context(request, form, [], None), status=400)
    rows, next_cursor = lead_page(form.cleaned_data)
    return render(request, "campaigns/lead_list.html", _list_context(request, form, rows, next_cursor))


@marketing_only
def lead_export(request):
    form = LeadFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "campaigns/lead_list.html", _list_context(request, form, [], None), status=400)
    response = StreamingHttpResponse(csv_rows(form.cleaned_data), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    return response


def _back(request):
    target = request.POST.get("next", "")
    if target.startswith(LIST_URL) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(LIST_URL)


@marketing_only
@require_POST
def lead_bulk(request):
    action = request.POST.get("action", "")
    ids = request.POST.getlist("lead")
    try:
        if action == "campaign":
            campaign = request.POST.get("campaign", "")
            if not campaign.isdigit() or len(campaign) > 10:
                raise ValidationError({"campaign": "Choose a campaign."})
            result = campaign_members_add_leads(campaign_id=int(campaign), lead_ids=ids, actor=request.user)
            messages.success(request, result.message())
            return _back(request)
        elif action == "do_not_contact":
            done, skipped = leads_mark_do_not_contact(lead_ids=ids, actor=request.user)
            text = f"Marked {done} lead{'s' if done != 1 else ''} do-not-contact"
        elif action == "disqualify":
            done, skipped = leads_disqualify(
                lead_ids=ids,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
                actor=request.user,
            )
            text = f"Disqualified {done} lead{'s' if done != 1 else ''}"
        else:
            raise ValidationError({"action": "Choose an action."})
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            messages.error(request, f"{field.replace('_', ' ').capitalize()}: {' '.join(errors)}")
    else:
        messages.success(request, text + (f"; {skipped} skipped (not applicable)." if skipped else "."))
    return _back(request)


@marketing_only
@require_POST
def saved_view_save(request):
    name = request.POST.get("name", "").strip()
    query = request.POST.get("query", "")
    if not name or len(name) > 100 or "\x00" in name:
        messages.error(request, "View name: give a name of at most 100 characters.")
    elif len(query) > 2000 or "\x00" in query:
        messages.error(request, "View: too many filters to save.")
    else:
        try:
            with transaction.atomic():
                SavedLeadView.objects.create(owner=request.user, name=name, query=query)
        except IntegrityError:
            messages.error(request, f"View name: you already have a view called '{name}'.")
        else:
            messages.success(request, f"Saved the view '{name}'.")
    return redirect(f"{LIST_URL}?{query}" if query else LIST_URL)


@marketing_only
@require_POST
def saved_view_delete(request, pk: int):
    view = get_object_or_404(SavedLeadView, pk=pk, owner=request.user)
    view.delete()
    messages.success(request, f"Deleted the view '{view.name}'.")
    return redirect(LIST_URL)


EDIT_FIELDS = (
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("title", "Job title"),
    ("company", "Company"),
    ("company_domain", "Company domain"),
    ("industry", "Industry"),
    ("employees", "Employees"),
    ("country", "Country (ISO code)"),
    ("timezone", "Time zone"),
)
FLAG_FIELDS = (
    ("email_opt_in", "Opted in to email"),
    ("do_not_call", "Do not call"),
    ("do_not_contact", "Do not contact"),
)
SALES_STAGES = ("handed_off", "sal", "opportunity", "customer", "recycled")


def _duplicates(lead):
    """Leads that look like the same person: same phone digits, or the same name at the
    same company domain (one query, at most 10)."""
    q = Q(pk__in=[])
    if lead.phone_digits and len(lead.phone_digits) >= 6:
        q |= Q(phone_digits=lead.phone_digits)
    if lead.first_name and lead.last_name and lead.company_domain:
        q |= Q(
            first_name__iexact=lead.first_name,
            last_name__iexact=lead.last_name,
            company_domain__iexact=lead.company_domain,
        )
    return list(Lead.objects.filter(q).exclude(pk=lead.pk).order_by("pk")[:10])


def _detail_context(lead, *, values=None, errors=None):
    values = values or {}
    fields = [
        {"name": n, "label": label, "value": values.get(n, getattr(lead, n)), "error": (errors or {}).get(n)}
        for n, label in EDIT_FIELDS
    ]
    flags = [
        {"name": n, "label": label, "value": values.get(n, getattr(lead, n)), "error": (errors or {}).get(n)}
        for n, label in FLAG_FIELDS
    ]
    transitions = list(lead.transitions.select_related("actor").order_by("at", "id"))
    return {
        "lead": lead,
        "fields": fields,
        "flags": flags,
        "other_errors": {
            k: v for k, v in (errors or {}).items() if k not in dict(EDIT_FIELDS) and k not in dict(FLAG_FIELDS)
        },
        "sources": LeadSource.choices,
        "source_value": values.get("source", lead.source),
        "breakdown": sorted(lead.score_breakdown or [], key=lambda e: -abs(e.get("points") or 0)),
        "learned": learned_reasons_for_lead(lead),
        "events": list(lead.events.order_by("-occurred_at", "-id")[:50]),
        "memberships": list(CampaignMember.objects.filter(lead=lead).select_related("campaign").order_by("-added_at")),
        "transitions": transitions,
        "sales": [t for t in transitions if t.to_stage in SALES_STAGES or t.from_stage in SALES_STAGES],
        "duplicates": _duplicates(lead),
        "consents": consent_overview(lead.pk),
        "can_grant": True,
        "next_url": reverse("campaigns:lead-detail", args=[lead.pk]) + "#consent",
    }


@marketing_only
def lead_detail(request, pk: int):
    lead = get_object_or_404(Lead.objects.select_related("owner"), pk=pk)
    if request.method != "POST":
        return render(request, "campaigns/lead_detail.html", _detail_context(lead))
    data = {n: request.POST.get(n, "") for n, _label in EDIT_FIELDS}
    data["source"] = request.POST.get("source", "")
    for n, _label in FLAG_FIELDS:
        data[n] = "true" if request.POST.get(n) else "false"
    before = lead.score
    try:
        lead = lead_edit(lead_id=lead.pk, data=data, actor=request.user)
    except ValidationError as exc:
        errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
        return render(
            request, "campaigns/lead_detail.html", _detail_context(lead, values=data, errors=errors), status=400
        )
    change = f" Score {before:g} -> {lead.score:g}." if lead.score != before else ""
    messages.success(request, f"Saved.{change}")
    return redirect("campaigns:lead-detail", pk=lead.pk)
