from django import forms
from django.contrib import admin

from config.admin_base import ReadOnlyModelAdmin

from .models import LearnedModel, LearnedPairWeight, LearnedWeight, LearningPolicy
from .services import POLICY_FIELDS, learning_policy_validate


class LearnedWeightInline(admin.TabularInline):
    model = LearnedWeight
    extra = 0
    can_delete = False
    fields = ["feature", "value", "weight", "lower", "upper", "is_missing"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LearnedModel)
class LearnedModelAdmin(admin.ModelAdmin):
    """Versions are read here; training and activation happen on the learned-scoring page."""

    list_display = ["version", "status", "is_active", "positives", "negatives", "auc", "trained_at", "activated_by"]
    list_filter = ["status", "is_active"]
    list_select_related = ["activated_by"]
    inlines = [LearnedWeightInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LearningPolicyForm(forms.ModelForm):
    class Meta:
        model = LearningPolicy
        fields = list(POLICY_FIELDS)

    def clean(self):
        cleaned = super().clean()
        present = {name: cleaned[name] for name in POLICY_FIELDS if name in cleaned}
        try:
            cleaned.update(learning_policy_validate(present))
        except forms.ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(LearningPolicy)
class LearningPolicyAdmin(admin.ModelAdmin):
    form = LearningPolicyForm
    list_display = ["__str__", "min_outcomes_per_class", "window_days", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(LearnedWeight)
class LearnedWeightAdmin(ReadOnlyModelAdmin):
    """Read-only: weights are written by training, never by hand."""

    list_display = ["model", "feature", "value", "weight"]
    list_filter = ["model"]
    search_fields = ["feature", "value"]
    list_select_related = ["model"]
    ordering = ["model", "-weight"]


@admin.register(LearnedPairWeight)
class LearnedPairWeightAdmin(ReadOnlyModelAdmin):
    """Read-only: the two-field tables are written by training, never by hand."""

    list_display = ["model", "first", "second", "first_value", "second_value", "weight"]
    list_filter = ["model"]
    search_fields = ["first", "second", "first_value", "second_value"]
    list_select_related = ["model"]
    ordering = ["model", "first", "second", "-weight"]
