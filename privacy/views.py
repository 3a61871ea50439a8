"""The manager's privacy pages: find a person, read and download everything Baton holds about
them, erase them; the retention page for marketing and managers."""

from __future__ import annotations

import datetime
import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from config.roles import is_manager, is_marketer
from leads import api as leads_api

from .models import ErasureAudit
from .services import (
    ConfirmationNeeded,
    person_erase,
    retention_cutoff,
    retention_due_count,
    subject_access_export,
    subject_access_json,
)

# The sections of the readable page, in order, with the heading each gets.
SECTIONS = (
    ("consents", "Consent records"),
    ("events", "Engagement events"),
    ("transitions", "Stage history"),
    ("campaign_memberships", "Campaign memberships"),
    ("collateral_shares", "Collateral shared and viewed"),
    ("feedback", "Feedback"),
    ("contacts", "Contact records"),
    ("assignments", "Hand-offs to sales"),
    ("calls", "Calls"),
    ("objections", "Objections"),
    ("follow_ups", "Follow-ups"),
    ("deals", "Deals"),
)


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "; ".join(", ".join(f"{k}: {_shown(v)}" for k, v in item.items()) for item in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str) if value else "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _label(key: str) -> str:
    return key.replace("__username", "").replace("__", " ").replace("_", " ").capitalize()


def readable_sections(data: dict) -> list[dict]:
    sections = []
    for key, title in SECTIONS:
        rows = data.get(key, [])
        columns = list(rows[0]) if rows else []
        sections.append(
            {
                "key": key,
                "title": title,
                "columns": [_label(c) for c in columns],
                "rows": [[_shown(row[c]) for c in columns] for row in rows],
            }
        )
    return sections


MAX_ID = 2**63 - 1
MAX_QUERY = 200


def manager_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_manager(request.user):
            raise PermissionDenied("Privacy requests are handled by sales managers.")
        return view(request, *args, **kwargs)

    return wrapped


def _export_or_404(request, lead_id: int) -> dict:
    if lead_id > MAX_ID:
        raise Http404
    try:
        return subject_access_export(lead_id=lead_id, actor=request.user)
    except leads_api.Lead.DoesNotExist:
        raise Http404("No such lead.") from None


@require_GET
@manager_required
def privacy_home(request):
    term = request.GET.get("q", "").strip()
    error = ""
    if len(term) > MAX_QUERY:
        error, term = f"q: at most {MAX_QUERY} characters.", ""
    results = leads_api.privacy_lead_find(term) if term else []
    return render(
        request, "privacy/home.html", {"q": term, "results": results, "error": error}, status=400 if error else 200
    )


def _person_page(request, lead_id: int, *, erase_error: str = "", status: int = 200):
    data = _export_or_404(request, lead_id)
    lead = data["lead"]
    facts = [(_label(k), _shown(v)) for k, v in lead.items()]
    open_deals = sum(1 for deal in data["deals"] if deal["stage"] not in ("won", "lost"))
    context = {
        "data": data,
        "lead": lead,
        "lead_id": lead_id,
        "facts": facts,
        "sections": readable_sections(data),
        "open_deals": open_deals,
        "erase_error": erase_error,
    }
    return render(request, "privacy/person.html", context, status=status)


@require_GET
@manager_required
def person_detail(request, lead_id: int):
    return _person_page(request, lead_id)


@require_POST
@manager_required
def person_erase_view(request, lead_id: int):
    """Erase the person; with an open deal the form must carry ``confirm_open_deal``."""
    if lead_id > MAX_ID:
        raise Http404
    try:
        audit = person_erase(
            lead_id=lead_id, actor=request.user, confirm_open_deal=request.POST.get("confirm_open_deal") == "yes"
        )
    except ConfirmationNeeded as needed:
        return _person_page(request, lead_id, erase_error=" ".join(needed.messages), status=409)
    except ValidationError as error:
        if not leads_api.Lead.objects.filter(pk=lead_id).exists():
            raise Http404("No such lead.") from None
        return _person_page(request, lead_id, erase_error=" ".join(error.messages), status=400)
    messages.success(request, f"Lead {lead_id} was erased ({audit.erased_at:%Y-%m-%d %H:%M} UTC); one audit row kept.")
    return redirect(reverse("privacy:home"))


@require_GET
@manager_required
def person_export_json(request, lead_id: int):
    data = _export_or_404(request, lead_id)
    response = HttpResponse(subject_access_json(data), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="baton-subject-access-lead-{lead_id}.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def retention(request):
    """Marketing and managers: the retention setting, how many leads are due now, and what the
    job did in the last 30 days."""
    if not (is_marketer(request.user) or is_manager(request.user)):
        raise PermissionDenied("The retention page is for marketing and sales managers.")
    now = timezone.now()
    recent = ErasureAudit.objects.filter(reason="retention", erased_at__gte=now - datetime.timedelta(days=30))
    context = {
        "days": settings.PRIVACY_RETENTION_DAYS,
        "cutoff": retention_cutoff(now),
        "due": retention_due_count(now),
        "batch": settings.PRIVACY_RETENTION_BATCH,
        "erased_30d": recent.count(),
        "last_run": recent.values_list("erased_at", flat=True).first(),
        "requests_30d": ErasureAudit.objects.filter(
            reason="request", erased_at__gte=now - datetime.timedelta(days=30)
        ).count(),
    }
    return render(request, "privacy/retention.html", context)
