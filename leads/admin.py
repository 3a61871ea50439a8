from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models

from config.admin_base import ReadOnlyModelAdmin

from .admin_filters import LeadReachedFilter, lead_list_filters
from .models import (
    CaptureForm,
    ConsentRecord,
    DailyRescore,
    DuplicatePair,
    EngagementEvent,
    LatestEngagement,
    Lead,
    LeadImport,
    LeadMerge,
    LeadTransition,
    RuleSetVersion,
    ScoringPolicy,
    ScoringRule,
    SearchWord,
    Segment,
    SegmentVersion,
)
from .rule_sets import POLICY_KEYS, policy_as_data, rule_as_data, rule_set_save, rule_set_snapshot, rule_set_validate
from .scoring import scoring_rule_validate
from .segment_services import segment_create, segment_delete, segment_update
from .segments import compile_definition
from .services import lead_engagement_refresh


def _add_service_errors(form, error: ValidationError, *, key_map=None) -> None:
    """Put a service's validation errors on the form's fields (unknown keys on the form)."""
    for key, messages in error.message_dict.items():
        field = (key_map or {}).get(key, key)
        form.add_error(field if field in form.fields else None, messages)


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
    list_filter = [
        "stage",
        LeadReachedFilter,
        "source",
        "industry",
        "do_not_call",
        "do_not_contact",
        "email_opt_in",
        *lead_list_filters(),
    ]
    search_fields = ["email", "first_name", "last_name", "company", "company_domain"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    # The owner follows the active assignment: sales moves a lead through the assignment's
    # reassign (crm), which also moves the SLA and tells both reps; never set here.
    readonly_fields = [
        "owner",
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
    list_filter = ["outcome", "to_stage", "from_stage", "lead__source", "lead__created_at", *lead_list_filters("lead")]
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


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyModelAdmin):
    """Read-only: consent is recorded by forms, imports, the API, the unsubscribe link and the
    lead page (leads.consent), which also derive the lead's flags; never edited here."""

    list_display = ["lead", "purpose", "granted", "source", "recorded_at", "actor"]
    list_filter = ["purpose", "granted", "source"]
    search_fields = ["lead__email"]
    list_select_related = ["lead", "actor"]
    raw_id_fields = ["lead"]
    show_full_result_count = False


@admin.register(SearchWord)
class SearchWordAdmin(ReadOnlyModelAdmin):
    """Read-only: the search's spelling vocabulary, kept by database triggers from the leads'
    names and companies (PostgreSQL; empty on SQLite, where search tolerates typos by LIKE)."""

    list_display = ["word"]
    search_fields = ["word"]
    show_full_result_count = False


class SegmentVersionInline(admin.TabularInline):
    model = SegmentVersion
    extra = 0
    can_delete = False
    fields = ["version", "member_count", "created_by", "created_at", "definition"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class SegmentAdminForm(forms.ModelForm):
    """Checks the definition and the name as ``segment_create`` / ``segment_update`` do; saving
    goes through them, so every change is a new version with its member count."""

    class Meta:
        model = Segment
        fields = ["name", "description", "definition", "is_icp"]

    def clean_definition(self):
        definition = self.cleaned_data.get("definition")
        try:
            compile_definition(definition)
        except ValidationError as error:
            raise ValidationError(" ".join(error.messages)) from error
        return definition


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentAdminForm
    list_display = ["name", "is_icp", "version", "member_count", "counted_at", "updated_at"]
    list_filter = ["is_icp"]
    search_fields = ["name", "description"]
    readonly_fields = ["version", "member_count", "counted_at", "created_by", "created_at", "updated_at"]
    inlines = [SegmentVersionInline]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        values = {k: data[k] for k in ("name", "description", "definition", "is_icp")}
        if change:
            segment = segment_update(segment_id=obj.pk, actor=request.user, **values)
        else:
            segment = segment_create(actor=request.user, **values)
        obj.pk, obj.version = segment.pk, segment.version

    def delete_model(self, request, obj):
        segment_delete(segment_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for segment in queryset:
            segment_delete(segment_id=segment.pk, actor=request.user)


@admin.register(SegmentVersion)
class SegmentVersionAdmin(admin.ModelAdmin):
    list_display = ["segment", "version", "member_count", "created_by", "created_at"]
    list_filter = ["segment"]
    list_select_related = ["segment", "created_by"]
    readonly_fields = ["segment", "version", "definition", "member_count", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False


def _rule_set_with(rule: ScoringRule) -> list[dict]:
    """The active rules as data with ``rule`` put in (or taken out, when it is inactive), in
    their order."""
    others = list(ScoringRule.objects.filter(is_active=True).exclude(pk=rule.pk))
    rules = [*others, rule] if rule.is_active else others
    rules.sort(key=lambda r: (r.kind, r.position, r.pk or float("inf")))
    return [rule_as_data(r) for r in rules]


class ScoringRuleAdminForm(forms.ModelForm):
    """Refuses a rule scoring cannot use (unknown field, operator not for the type, bad value),
    naming the field. Saving puts the rule set in force as a new version through
    ``rule_set_save``, which re-scores every lead in the background."""

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
            _add_service_errors(self, exc)
            return cleaned
        rule.pk = self.instance.pk
        rules = _rule_set_with(rule)
        try:
            rule_set_validate(rules=rules, policy=rule_set_snapshot()["policy"])
        except ValidationError as exc:
            mine = next((i for i, r in enumerate(rules) if r["id"] == rule.pk), None)
            prefix = f"rules.{mine}." if mine is not None else "\0"
            key_map = {k: k.removeprefix(prefix) for k in exc.message_dict}
            key_map = {k: {"segment_id": "segment"}.get(v, v) for k, v in key_map.items()}
            _add_service_errors(self, exc, key_map=key_map)
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

    def has_delete_permission(self, request, obj=None):
        return False  # untick "is active": the rule leaves the rule set as a new version

    def save_model(self, request, obj, form, change):
        was_active = change and ScoringRule.objects.filter(pk=obj.pk, is_active=True).exists()
        if not obj.is_active and not was_active:
            obj.save()  # an inactive rule that stays inactive scores nothing
            return
        before = set(ScoringRule.objects.filter(is_active=True).values_list("pk", flat=True))
        snapshot = rule_set_snapshot()
        version = rule_set_save(
            rules=_rule_set_with(obj),
            policy=snapshot["policy"],
            note=f"Rule '{obj.name}' {'changed' if change else 'added'} in the admin.",
            actor=request.user,
        )
        if obj.pk is None:
            obj.pk = next(r["id"] for r in version.rules if r["id"] not in before)


class ScoringPolicyAdminForm(forms.ModelForm):
    class Meta:
        model = ScoringPolicy
        fields = list(POLICY_KEYS)

    def clean(self):
        cleaned = super().clean()
        try:
            rule_set_validate(rules=rule_set_snapshot()["rules"], policy={k: cleaned.get(k) for k in POLICY_KEYS})
        except ValidationError as exc:
            _add_service_errors(self, exc, key_map={k: k.removeprefix("policy.") for k in exc.message_dict})
        return cleaned


@admin.register(ScoringPolicy)
class ScoringPolicyAdmin(admin.ModelAdmin):
    """Saving puts the rule set in force as a new version (``rule_set_save``), which re-scores
    every lead in the background."""

    form = ScoringPolicyAdminForm
    list_display = ["__str__", "default_half_life_days", "learned_mode", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def has_add_permission(self, request):
        return not ScoringPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        rule_set_save(
            rules=rule_set_snapshot()["rules"],
            policy=policy_as_data(obj),
            note="Scoring policy changed in the admin.",
            actor=request.user,
        )
        obj.pk = 1


@admin.register(DuplicatePair)
class DuplicatePairAdmin(admin.ModelAdmin):
    list_display = ["lead_a", "lead_b", "reason", "found_at", "dismissed"]
    list_filter = ["reason", "dismissed"]
    list_select_related = ["lead_a", "lead_b"]
    raw_id_fields = ["lead_a", "lead_b"]


@admin.register(LeadMerge)
class LeadMergeAdmin(admin.ModelAdmin):
    """Read-only: a merge is done on /marketing/duplicates/ (one row per merge)."""

    list_display = ["survivor", "merged_lead_id", "merged_email", "actor", "at"]
    list_select_related = ["survivor", "actor"]
    readonly_fields = [f.name for f in LeadMerge._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
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


@admin.register(DailyRescore)
class DailyRescoreAdmin(ReadOnlyModelAdmin):
    """When the daily re-score last ran and how much it touched (written by the job)."""

    list_display = ["last_run_at", "full", "rescored", "decayed"]
