"""The report pages inside the Django admin (`/admin/reports/...`).

They are added to the default admin site's URLs by wrapping `admin.site.get_urls` (installed
from `CrmConfig.ready`), and linked from the admin index. Access needs `crm.view_reports`
(managers and marketing); anyone else signed in gets a 403.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache

from crm.reports import REPORTS
from crm.reports.base import build_report, form_errors
from crm.reports.export import csv_response

PERMISSION = "crm.view_reports"


def _check_access(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied("You need the 'view reports' permission to see the reports.")
    return None


@never_cache
def reports_index(request):
    denied = _check_access(request)
    if denied:
        return denied
    context = {
        **admin.site.each_context(request),
        "title": "Reports",
        "is_nav_sidebar_enabled": False,
        "reports": REPORTS.values(),
    }
    return render(request, "admin/reports/index.html", context)


@never_cache
def report_view(request, slug: str):
    denied = _check_access(request)
    if denied:
        return denied
    spec = REPORTS.get(slug)
    if spec is None:
        raise Http404("No such report.")
    form = spec.form_class(request.GET)
    result, errors, status = None, {}, 200
    if form.is_valid():
        try:
            result = build_report(spec, form.cleaned_data)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            status = 400
    else:
        errors = form_errors(form)
        status = 400
    if result is not None and request.GET.get("export") == "csv":
        try:
            table = result.table(request.GET.get("table"))
        except ValidationError as exc:
            errors, status, result = exc.message_dict, 400, None
        else:
            date_from = form.cleaned_data["date_from"].isoformat()
            date_to = form.cleaned_data["date_to"].isoformat()
            return csv_response(table.csv_rows(), f"{slug}-{table.key}-{date_from}-{date_to}.csv")
    query = request.GET.copy()
    query.pop("export", None)
    query.pop("table", None)
    context = {
        **admin.site.each_context(request),
        "title": f"{spec.title} report",
        "is_nav_sidebar_enabled": False,  # the tables need the width
        "spec": spec,
        "reports": REPORTS.values(),
        "form": form,
        "errors": errors,
        "result": result,
        "query": query.urlencode(),
    }
    return render(request, "admin/reports/report.html", context, status=status)


def install(site=admin.site) -> None:
    """Prepend the report URLs to the admin site's (idempotent)."""
    if getattr(site.get_urls, "_with_reports", False):
        return
    original = site.get_urls

    def get_urls():
        return [
            path("reports/", reports_index, name="reports"),
            path("reports/<slug:slug>/", report_view, name="report"),
            *original(),
        ]

    get_urls._with_reports = True
    site.get_urls = get_urls
