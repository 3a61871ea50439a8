from django.urls import path

from . import reports

urlpatterns = [path("reports/<str:name>/", reports.ReportApi.as_view(), name="report-api")]
