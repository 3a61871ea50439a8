from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ReportsConfig(AppConfig):
    """The managers' reports: the top floor. It reads leads, campaigns and crm; nothing imports it."""

    name = "reports"
    verbose_name = "Report rollups"  # the admin index already has a "Reports" module (the pages)
    default_auto_field = "django.db.models.BigAutoField"


class BatonAdminConfig(AdminConfig):
    """`django.contrib.admin` with Baton's admin site (the report pages under `/admin/reports/`)."""

    default_site = "reports.admin_site.BatonAdminSite"
