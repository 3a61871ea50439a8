from django.contrib import admin

from .models import (
    Campaign,
    CampaignMember,
    Collateral,
    CollateralShare,
    CollateralVersion,
    CollateralView,
    CustomerFeedback,
)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "status",
        "starts_on",
        "ends_on",
        "budget",
        "actual_cost",
        "owner",
        "target_segment",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["name", "goal"]
    list_select_related = ["owner", "target_segment"]
    raw_id_fields = ["owner"]


@admin.register(CampaignMember)
class CampaignMemberAdmin(admin.ModelAdmin):
    list_display = ["campaign", "lead", "status", "added_at", "responded_at"]
    list_filter = ["status", "campaign"]
    search_fields = ["lead__email", "campaign__name"]
    list_select_related = ["campaign", "lead"]
    raw_id_fields = ["lead", "campaign"]
    show_full_result_count = False


class CollateralVersionInline(admin.TabularInline):
    model = CollateralVersion
    extra = 0
    fields = ["number", "file", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Collateral)
class CollateralAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "funnel_stage", "owner", "expires_on", "is_archived", "current_version"]
    list_filter = ["kind", "funnel_stage", "is_archived"]
    search_fields = ["title"]
    list_select_related = ["owner", "current_version"]
    filter_horizontal = ["approved_segments"]
    raw_id_fields = ["owner"]
    inlines = [CollateralVersionInline]


@admin.register(CollateralVersion)
class CollateralVersionAdmin(admin.ModelAdmin):
    list_display = ["collateral", "number", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    search_fields = ["collateral__title", "original_name"]
    list_select_related = ["collateral", "uploaded_by"]


@admin.register(CollateralShare)
class CollateralShareAdmin(admin.ModelAdmin):
    list_display = ["collateral", "lead", "shared_by", "shared_at", "revoked_at"]
    search_fields = ["collateral__title", "lead__email"]
    list_select_related = ["collateral", "lead", "shared_by"]
    raw_id_fields = ["lead", "collateral", "shared_by"]
    readonly_fields = ["token"]
    show_full_result_count = False


@admin.register(CollateralView)
class CollateralViewAdmin(admin.ModelAdmin):
    list_display = ["share", "viewed_at", "user_agent"]
    list_select_related = ["share__collateral", "share__lead"]
    raw_id_fields = ["share"]
    show_full_result_count = False


@admin.register(CustomerFeedback)
class CustomerFeedbackAdmin(admin.ModelAdmin):
    list_display = ["lead", "rating", "source", "campaign", "created_at"]
    list_filter = ["source", "rating"]
    search_fields = ["lead__email", "comment"]
    list_select_related = ["lead", "campaign"]
    raw_id_fields = ["lead", "entered_by"]
