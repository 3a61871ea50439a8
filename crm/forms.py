"""The rep's forms. They parse and label input; the services validate and write."""

from __future__ import annotations

from django import forms
from django.forms import formset_factory

from campaigns.api import ObjectionCategory

from .models import OPEN_DEAL_STAGES, CallOutcome, DealStage, LostReason, RejectReason


class CallForm(forms.Form):
    outcome = forms.ChoiceField(label="Outcome", choices=CallOutcome.choices, widget=forms.RadioSelect)
    duration_minutes = forms.DecimalField(
        label="Duration (minutes)",
        required=False,
        decimal_places=2,
        initial=0,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    next_step_at = forms.DateTimeField(
        label="Next step (creates a follow-up)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )

    # Service error keys -> the form field that shows them.
    SERVICE_FIELDS = {
        "outcome": "outcome",
        "duration_seconds": "duration_minutes",
        "notes": "notes",
        "next_step_at": "next_step_at",
        "called_at": None,
        "lead_id": None,
        "contact_id": None,
    }

    def duration_seconds(self) -> int:
        minutes = self.cleaned_data.get("duration_minutes")
        return 0 if minutes is None else int(round(minutes * 60))


class ObjectionForm(forms.Form):
    category = forms.ChoiceField(
        label="Objection", choices=[("", "— none —"), *ObjectionCategory.choices], required=False
    )
    said = forms.CharField(label="What was said", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    response = forms.CharField(label="How it was answered", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    overcome = forms.BooleanField(label="Overcome", required=False)
    collateral_id = forms.TypedChoiceField(label="Collateral shared", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, collateral_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collateral_id"].choices = [("", "— none —"), *collateral_choices]

    def clean(self):
        data = super().clean()
        if not data.get("category") and (data.get("said") or data.get("response") or data.get("collateral_id")):
            self.add_error("category", "Choose the objection's category.")
        return data


ObjectionFormSet = formset_factory(ObjectionForm, extra=1, max_num=10, absolute_max=10)


def objection_rows(formset) -> list[dict]:
    """The filled-in objection fieldsets as service input (empty ones are skipped)."""
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if data.get("category"):
            rows.append(
                {
                    "category": data["category"],
                    "said": data.get("said", ""),
                    "response": data.get("response", ""),
                    "overcome": data.get("overcome", False),
                    "collateral_id": data.get("collateral_id"),
                }
            )
    return rows


class RejectForm(forms.Form):
    # No reason is preselected: sending a lead back is an explicit choice the rep makes.
    reason = forms.ChoiceField(
        label="Reason",
        choices=[("", "— choose a reason —"), *RejectReason.choices],
        error_messages={"required": "Choose why you are sending the lead back."},
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ConvertForm(forms.Form):
    name = forms.CharField(label="Deal name", required=False, max_length=200)
    amount = forms.DecimalField(label="Amount", min_value=0, max_digits=12, decimal_places=2)
    expected_close_on = forms.DateField(
        label="Expected close", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class DealMoveForm(forms.Form):
    stage = forms.ChoiceField(label="Stage", choices=[(s, DealStage(s).label) for s in OPEN_DEAL_STAGES])


class DealCloseForm(forms.Form):
    result = forms.ChoiceField(
        label="Result",
        choices=[("won", "Won"), ("lost", "Lost")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose won or lost."},
    )
    lost_reason = forms.ChoiceField(
        label="Lost reason", choices=[("", "— choose —"), *LostReason.choices], required=False
    )
    lost_note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


def add_service_errors(form, error, field_map: dict | None = None) -> None:
    """Show a service's ValidationError next to the field it names (or above the form)."""
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages in error.message_dict.items():
        target = field_map.get(key, key)
        if target not in form.fields:
            target = None
        form.add_error(target, messages)


class DealFilterForm(forms.Form):
    """The manager's filters (GET): one rep and/or one queue, picked from lists loaded once."""

    rep = forms.TypedChoiceField(
        label="Rep",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Choose a rep from the list (%(value)s is not one)."},
    )
    queue = forms.TypedChoiceField(
        label="Queue",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Choose a queue from the list (%(value)s is not one)."},
    )

    def __init__(self, *args, reps=(), queues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].choices = [("", "All reps"), *((r.pk, r.get_full_name() or r.get_username()) for r in reps)]
        self.fields["queue"].choices = [("", "All queues"), *((q.pk, q.name) for q in queues)]


class ForecastFilterForm(DealFilterForm):
    start = forms.DateField(
        label="From month",
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": "Enter a month as YYYY-MM, such as 2026-12."},
    )
    currency = forms.RegexField(
        label="Currency",
        required=False,
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        widget=forms.TextInput(attrs={"placeholder": "EUR", "size": 4}),
        error_messages={"invalid": "Use a three-letter currency code such as EUR."},
    )

    def clean_start(self):
        start = self.cleaned_data.get("start")
        if start is not None and not 2000 <= start.year <= 2100:
            raise forms.ValidationError("Choose a month between 2000 and 2100.")
        return start

    def clean_currency(self):
        return (self.cleaned_data.get("currency") or "").upper()
