"""The manager's privacy pages: find a person, read and download everything Baton holds about
them, erase them; the retention page for marketing and managers."""

from __future__ import annotations

import datetime
import json
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from config.roles import is_manager
from leads import api as leads_api

from .services import subject_access_export, subject_access_json

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


@require_GET
@manager_required
def person_detail(request, lead_id: int):
    data = _export_or_404(request, lead_id)
    lead = data["lead"]
    facts = [(_label(k), _shown(v)) for k, v in lead.items()]
    return render(
        request,
        "privacy/person.html",
        {"data": data, "lead": lead, "lead_id": lead_id, "facts": facts, "sections": readable_sections(data)},
    )


@require_GET
@manager_required
def person_export_json(request, lead_id: int):
    data = _export_or_404(request, lead_id)
    response = HttpResponse(subject_access_json(data), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="baton-subject-access-lead-{lead_id}.json"'
    response["Cache-Control"] = "no-store"
    return response
