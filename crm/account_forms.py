"""The account page's action bar and edit forms. They parse and label input; the services
(crm.services.accounts, calls, deals; campaigns' feedback_record) validate and write."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from config.roles import SALES_REP

from .models import CallOutcome


def _contact_choices(contacts) -> list[tuple]:
    return [("", "— choose —"), *((c.pk, str(c)) for c in contacts)]


class ContactCallForm(forms.Form):
    contact = forms.TypedChoiceField(label="Contact", coerce=int)
    outcome = forms.ChoiceField(label="Outcome", choices=CallOutcome.choices)
    duration_minutes = forms.DecimalField(label="Duration (minutes)", required=False, min_value=0, max_value=600)
    notes = forms.CharField(label="Notes", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    next_step_at = forms.DateTimeField(
        label="Next step",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    SERVICE_FIELDS = {"contact_id": "contact", "duration_seconds": "duration_minutes"}

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = _contact_choices(contacts)


class ContactForm(forms.Form):
    first_name = forms.CharField(label="First name", required=False, max_length=100)
    last_name = forms.CharField(label="Last name", required=False, max_length=100)
    email = forms.EmailField(label="E-mail", required=False, max_length=254)
    phone = forms.CharField(label="Phone", required=False, max_length=40)
    title = forms.CharField(label="Job title", required=False, max_length=150)


class CheckInForm(forms.Form):
    next_check_in_on = forms.DateField(label="Next check-in", widget=forms.DateInput(attrs={"type": "date"}))


class DealOpenForm(forms.Form):
    name = forms.CharField(label="Deal name", max_length=200)
    amount = forms.DecimalField(label="Amount", min_value=0, max_digits=12, decimal_places=2)
    currency = forms.CharField(label="Currency", max_length=3, initial="EUR")
    expected_close_on = forms.DateField(
        label="Expected close", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    contact = forms.TypedChoiceField(label="Contact", coerce=int, required=False, empty_value=None)
    SERVICE_FIELDS = {"contact_id": "contact", "account_id": None}

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = _contact_choices(contacts)


class FeedbackForm(forms.Form):
    contact = forms.TypedChoiceField(label="Customer contact", coerce=int)
    rating = forms.IntegerField(label="Rating (0–10)", min_value=0, max_value=10)
    comment = forms.CharField(
        label="Comment", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    SERVICE_FIELDS = {"lead_id": "contact", "rating": "rating", "comment": "comment"}

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = _contact_choices([c for c in contacts if c.lead_id])


class AccountForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    domain = forms.CharField(label="Domain", required=False, max_length=253)
    industry = forms.CharField(label="Industry", required=False, max_length=100)
    employees = forms.IntegerField(label="Employees", required=False, min_value=0, max_value=10_000_000)
    country = forms.CharField(label="Country (two letters)", required=False, max_length=2)
    owner = forms.TypedChoiceField(label="Owner", coerce=int, required=False, empty_value=None)
    SERVICE_FIELDS = {"owner_id": "owner"}

    def __init__(self, *args, manager: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if manager:
            reps = get_user_model().objects.filter(groups__name=SALES_REP, is_active=True).order_by("username")
            self.fields["owner"].choices = [("", "— nobody —"), *((u.pk, u.get_username()) for u in reps)]
        else:
            del self.fields["owner"]
