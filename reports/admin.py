from django.contrib import admin

from config.admin_base import ReadOnlyModelAdmin

from .models import FunnelRollup, ReportRollupRun, SalesAgreement


@admin.register(FunnelRollup)
class FunnelRollupAdmin(ReadOnlyModelAdmin):
    """Rebuilt whole by a beat task (reports.services)."""

    list_display = ["day", "source", "furthest", "leads"]
    list_filter = ["source", "furthest"]
    date_hierarchy = "day"
    show_full_result_count = False


@admin.register(ReportRollupRun)
class ReportRollupRunAdmin(ReadOnlyModelAdmin):
    """Written by the beat task that rebuilds the rollups."""

    list_display = ["name", "refreshed_at", "time_zone", "duration_ms"]


@admin.register(SalesAgreement)
class SalesAgreementAdmin(ReadOnlyModelAdmin):
    """Set on /agreement/ by managers and marketers (one row per queue and month)."""

    list_display = ["queue", "month", "mql_target", "first_touch_hours", "attempts_before_recycle", "updated_by"]
    list_select_related = ["queue", "updated_by"]
    list_filter = ["queue"]
