from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from .models import (
    Campaign,
    CampaignMember,
    Collateral,
    CollateralShare,
    CollateralVersion,
    CollateralView,
    CustomerFeedback,
    ObjectionCategory,
    SavedLeadView,
)

CAMPAIGN_FIELDS = ["name", "kind", "status", "starts_on", "ends_on", "budget", "actual_cost", "target_segment", "goal"]


def _campaign_changes(cleaned: dict) -> dict:
    changes = {k: cleaned.get(k) for k in CAMPAIGN_FIELDS if k != "target_segment"}
    segment = cleaned.get("target_segment")
    changes["target_segment_id"] = segment.pk if segment else None
    return changes


class CampaignAdminForm(forms.ModelForm):
    """Checked by the campaign services' own rules (a unique name, no type change once it has
    members, an end after the start); saving goes through ``campaign_create`` /
    ``campaign_update``."""

    class Meta:
        model = Campaign
        fields = CAMPAIGN_FIELDS

    def clean(self):
        from .services.campaigns import campaign_fields_check

        cleaned = super().clean()
        if not self.errors:
            try:
                campaign_fields_check(campaign=self.instance, fields=_campaign_changes(cleaned))
            except ValidationError as error:
                for key, messages_ in error.message_dict.items():
                    key = "target_segment" if key == "target_segment_id" else key
                    self.add_error(key if key in self.fields else None, messages_)
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignAdminForm
    actions = ["add_target_segment_members"]

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
    readonly_fields = ["owner", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        from .services.campaigns import campaign_create, campaign_update

        changes = _campaign_changes(form.cleaned_data)
        if change:
            campaign = campaign_update(campaign_id=obj.pk, actor=request.user, **changes)
        else:
            campaign = campaign_create(actor=request.user, **changes)
        obj.pk, obj.owner = campaign.pk, campaign.owner

    @admin.action(description="Add the target segment's leads as members")
    def add_target_segment_members(self, request, queryset):
        from .services.campaigns import campaign_members_add_from_segment

        for campaign in queryset:
            try:
                result = campaign_members_add_from_segment(campaign_id=campaign.pk, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{campaign}: {' '.join(error.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{campaign}: {result.message()}", messages.SUCCESS)


@admin.register(CampaignMember)
class CampaignMemberAdmin(admin.ModelAdmin):
    list_display = ["campaign", "lead", "status", "added_at", "responded_at"]
    list_filter = ["status", "campaign"]
    search_fields = ["lead__email", "campaign__name"]
    list_select_related = ["campaign", "lead"]
    raw_id_fields = ["lead", "campaign"]
    readonly_fields = ["status", "added_at", "responded_at"]  # moved by the campaign services
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # members are added from the target segment (an action on the campaign)


class CollateralVersionInline(admin.TabularInline):
    model = CollateralVersion
    extra = 0
    fields = ["number", "file", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class CollateralAdminForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Collateral
        fields = [
            "title",
            "kind",
            "url",
            "industries",
            "products",
            "funnel_stage",
            "objection_categories",
            "approved_segments",
            "owner",
            "expires_on",
            "is_archived",
            "current_version",
        ]

    def clean_url(self):
        url = self.cleaned_data.get("url", "")
        if url:
            URLValidator(schemes=["http", "https"])(url)
        return url

    def clean_objection_categories(self):
        value = self.cleaned_data.get("objection_categories") or []
        unknown = [c for c in value if c not in ObjectionCategory.values]
        if unknown:
            raise ValidationError(
                f"Unknown objection category {unknown[0]!r}; allowed: {', '.join(ObjectionCategory.values)}."
            )
        return value


@admin.register(Collateral)
class CollateralAdmin(admin.ModelAdmin):
    """Files are uploaded on the library page (``/marketing/library/``), where every upload is
    validated; here the current version may be set back to an earlier one."""

    form = CollateralAdminForm
    actions = ["archive", "restore"]
    list_display = ["title", "kind", "funnel_stage", "owner", "expires_on", "is_archived", "current_version"]
    list_filter = ["kind", "funnel_stage", "is_archived"]
    search_fields = ["title"]
    list_select_related = ["owner", "current_version"]
    filter_horizontal = ["approved_segments"]
    raw_id_fields = ["owner"]
    inlines = [CollateralVersionInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "current_version":
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = CollateralVersion.objects.filter(collateral_id=object_id or 0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.action(description="Archive (stop sharing and serving)")
    def archive(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_archived=True)} archived.")

    @admin.action(description="Restore from the archive")
    def restore(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_archived=False)} restored.")


@admin.register(CollateralVersion)
class CollateralVersionAdmin(admin.ModelAdmin):
    """Read-only: a version is added by uploading on the library page, which validates it."""

    list_display = ["collateral", "number", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    search_fields = ["collateral__title", "original_name"]
    list_select_related = ["collateral", "uploaded_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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


@admin.register(SavedLeadView)
class SavedLeadViewAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "query", "created_at"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
