"""`GET /api/reports/<name>/`: the same report data as the admin pages, as JSON.

Query parameters are the page's filters (`date_from`, `date_to`, and the report's splits);
bad values get the API's usual 400 naming the field. Needs `crm.view_reports`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.selectors import REPORTS
from reports.selectors.base import build_report, form_errors


class CanViewReports(BasePermission):
    message = "You need the 'view reports' permission to see the reports."

    def has_permission(self, request, view):
        return request.user.has_perm("crm.view_reports")


class ReportApi(APIView):
    permission_classes = [IsAuthenticated, CanViewReports]

    @extend_schema(
        tags=["reports"],
        summary="One manager report (tables of aggregated figures)",
        parameters=[
            OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(REPORTS)),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="Default: 12 weeks before date_to."),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Default: today."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, name: str):
        spec = REPORTS.get(name)
        if spec is None:
            raise Http404
        form = spec.form_class(request.query_params)
        if not form.is_valid():
            raise ValidationError(form_errors(form))
        result = build_report(spec, form.cleaned_data)
        data = form.cleaned_data
        filters = {
            key: (value.pk if hasattr(value, "pk") else value.isoformat() if hasattr(value, "isoformat") else value)
            for key, value in data.items()
            if key not in ("start", "end") and value not in (None, "")
        }
        return Response(
            {
                "report": spec.slug,
                "title": spec.title,
                "filters": filters,
                "is_empty": result.is_empty,
                "tables": [table.as_data() for table in result.tables],
            }
        )
