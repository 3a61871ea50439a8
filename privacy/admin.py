from django.contrib import admin

from config.admin_base import ReadOnlyModelAdmin

from .models import ErasureAudit


@admin.register(ErasureAudit)
class ErasureAuditAdmin(ReadOnlyModelAdmin):
    """Read-only: one row per erasure (by a manager on /privacy/ or the retention job)."""

    list_display = ["lead_id", "erased_by", "erased_at", "reason", "had_open_deal"]
    list_filter = ["reason", "had_open_deal"]
    list_select_related = ["erased_by"]
