from django.contrib import admin

from config.admin_base import ReadOnlyModelAdmin

from .models import FunnelRollup, ReportRollupRun


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
