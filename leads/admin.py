from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models

from config.admin_base import ReadOnlyModelAdmin

from .models import (
    CaptureForm,
    EngagementEvent,
    LatestEngagement,
    Lead,
    LeadImport,
    LeadTransition,
    RuleSetVersion,
    ScoringPolicy,
    ScoringRule,
    Segment,
    SegmentVersion,
)
from .scoring import scoring_rule_validate
from .services import lead_engagement_refresh


class LeadTransitionInline(admin.TabularInline):
    model = LeadTransition
    extra = 0
    can_delete = False
    fields = ["at", "from_stage", "to_stage", "actor", "outcome", "outcome_reason", "reason", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "first_name",
        "last_name",
        "company",
        "industry",
        "country",
        "stage",
        "score",
        "owner",
        "created_at",
    ]
    list_filter = ["stage", "source", "industry", "do_not_call", "do_not_contact", "email_opt_in"]
    search_fields = ["email", "first_name", "last_name", "company", "company_domain"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "stage",
        "stage_changed_at",
        "fit_score",
        "engagement_score",
        "learned_score",
        "score",
        "score_breakdown",
        "scored_at",
        "qualified_at",
        "last_engaged_at",
        "created_at",
        "updated_at",
    ]
    inlines = [LeadTransitionInline]
    show_full_result_count = False


@admin.register(LeadTransition)
class LeadTransitionAdmin(admin.ModelAdmin):
    list_display = ["lead", "from_stage", "to_stage", "actor", "outcome", "outcome_reason", "at"]
    list_filter = ["outcome", "to_stage", "from_stage"]
    search_fields = ["lead__email"]
    list_select_related = ["lead", "actor"]
    raw_id_fields = ["lead", "actor"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(EngagementEvent)
class EngagementEventAdmin(admin.ModelAdmin):
    list_display = ["lead", "kind", "occurred_at", "points", "source_reference"]
    list_filter = ["kind"]
    search_fields = ["lead__email", "source_reference"]
    list_select_related = ["lead"]
    raw_id_fields = ["lead"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    # Events written here bypass engagement_record: recompute the leads' latest-event columns
    # (segments read them) for the lead an event belongs to now and belonged to before.
    def save_model(self, request, obj, form, change):
        before = EngagementEvent.objects.filter(pk=obj.pk).values_list("lead_id", flat=True).first()
        super().save_model(request, obj, form, change)
        lead_engagement_refresh(lead_ids={obj.lead_id, before} - {None})

    def delete_model(self, request, obj):
        lead_id = obj.lead_id
        super().delete_model(request, obj)
        lead_engagement_refresh(lead_ids=[lead_id])

    def delete_queryset(self, request, queryset):
        lead_ids = set(queryset.values_list("lead_id", flat=True))
        super().delete_queryset(request, queryset)
        lead_engagement_refresh(lead_ids=lead_ids)


@admin.register(LatestEngagement)
class LatestEngagementAdmin(ReadOnlyModelAdmin):
    """Read-only: the ranks are rebuilt from the events (leads.services), never edited."""

    list_display = ["lead", "kind", "nth", "occurred_at"]
    list_filter = ["kind", "nth"]
    search_fields = ["lead__email"]
    list_select_related = ["lead"]
    raw_id_fields = ["lead"]
    show_full_result_count = False


class SegmentVersionInline(admin.TabularInline):
    model = SegmentVersion
    extra = 0
    can_delete = False
    fields = ["version", "member_count", "created_by", "created_at", "definition"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "is_icp", "version", "member_count", "counted_at", "updated_at"]
    list_filter = ["is_icp"]
    search_fields = ["name", "description"]
    readonly_fields = ["version", "member_count", "counted_at", "created_by", "created_at", "updated_at"]
    inlines = [SegmentVersionInline]


@admin.register(SegmentVersion)
class SegmentVersionAdmin(admin.ModelAdmin):
    list_display = ["segment", "version", "member_count", "created_by", "created_at"]
    list_filter = ["segment"]
    list_select_related = ["segment", "created_by"]
    readonly_fields = ["segment", "version", "definition", "member_count", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False


class ScoringRuleAdminForm(forms.ModelForm):
    """Refuses a rule scoring cannot use (unknown field, operator not for the type, bad value),
    naming the field. Saving a rule re-scores every lead after commit (leads.receivers)."""

    class Meta:
        model = ScoringRule
        fields = [
            "name",
            "kind",
            "field",
            "operator",
            "value",
            "segment",
            "points",
            "event_kind",
            "points_per_event",
            "cap",
            "half_life_days",
            "is_active",
            "position",
        ]

    def clean(self):
        cleaned = super().clean()
        rule = ScoringRule(**{k: v for k, v in cleaned.items() if k in {f.name for f in ScoringRule._meta.fields}})
        try:
            scoring_rule_validate(rule)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    form = ScoringRuleAdminForm
    list_display = [
        "name",
        "kind",
        "field",
        "operator",
        "points",
        "event_kind",
        "points_per_event",
        "cap",
        "half_life_days",
        "is_active",
    ]
    list_filter = ["kind", "is_active", "event_kind"]
    search_fields = ["name", "field"]
    list_select_related = ["segment"]


@admin.register(ScoringPolicy)
class ScoringPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "default_half_life_days", "learned_mode", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def has_add_permission(self, request):
        return not ScoringPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RuleSetVersion)
class RuleSetVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are written by saving or restoring on /marketing/scoring/."""

    list_display = ["number", "created_by", "created_at", "note", "restored_from", "rescore_status"]
    list_select_related = ["created_by", "restored_from"]
    readonly_fields = [f.name for f in RuleSetVersion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CaptureForm)
class CaptureFormAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "key", "is_active", "redirect_url", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "key"]


@admin.register(LeadImport)
class LeadImportAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "dry_run",
        "status",
        "created_count",
        "updated_count",
        "rejected_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "dry_run"]
    list_select_related = ["created_by"]
    readonly_fields = [f.name for f in LeadImport._meta.fields]

    def has_add_permission(self, request):
        return False  # uploads go through /marketing/imports/, which runs them on a worker
