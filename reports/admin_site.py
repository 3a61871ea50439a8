"""The report pages inside the Django admin (`/admin/reports/...`).

`BatonAdminSite` is the project's admin site (`BatonAdminConfig.default_site`, so every
`admin.register` and `admin.site` use it): Django's admin plus the report URLs, and an index
that links them. Access needs `crm.view_reports` (managers and marketing); anyone else signed
in gets a 403.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import path, register_converter, reverse
from django.views.decorators.cache import never_cache

from reports.selectors import REPORTS
from reports.selectors.base import build_report, form_errors
from reports.selectors.export import csv_response

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


class ReportSlug:
    """Only the reports' slugs: `/admin/reports/<model>/` stays the reports app's changelists."""

    regex = "|".join(sorted(REPORTS, key=len, reverse=True))

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReportSlug, "report")


class BatonAdminSite(admin.AdminSite):
    """The admin with the report pages (`admin:reports`, `admin:report`) before Django's own
    (`/admin/reports/` is the report index, not the app index of the rollup models)."""

    index_template = "admin/reports/admin_index.html"

    def get_urls(self):
        return [
            path("reports/", reports_index, name="reports"),
            path("reports/<report:slug>/", report_view, name="report"),
            *super().get_urls(),
        ]
