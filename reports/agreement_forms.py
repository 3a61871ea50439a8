"""The form that sets one queue's agreement for one month (managers and marketers)."""

from __future__ import annotations

import datetime

from django import forms

from crm.api import SalesQueue

from .models import SalesAgreement

MAX_HOURS = 24 * 10
MAX_ATTEMPTS = 50
MAX_TARGET = 1_000_000


class AgreementForm(forms.Form):
    queue = forms.ModelChoiceField(queryset=SalesQueue.objects.order_by("priority", "pk"), empty_label=None)
    month = forms.CharField(
        max_length=7, widget=forms.TextInput(attrs={"type": "month"}), help_text="The month, as YYYY-MM."
    )
    mql_target = forms.IntegerField(label="MQL target", min_value=0, max_value=MAX_TARGET)
    first_touch_hours = forms.IntegerField(
        label="First touch within (business hours)", min_value=1, max_value=MAX_HOURS
    )
    attempts_before_recycle = forms.IntegerField(
        label="Call attempts before recycle", min_value=1, max_value=MAX_ATTEMPTS
    )

    def clean_month(self) -> datetime.date:
        text = self.cleaned_data["month"].strip()
        try:
            return datetime.datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError("Enter a month as YYYY-MM, e.g. 2026-03.") from None


def agreement_save(
    *, queue, month: datetime.date, mql_target: int, first_touch_hours: int, attempts_before_recycle: int, actor
) -> SalesAgreement:
    """Set (create or replace) the queue's agreement for the month."""
    agreement, _ = SalesAgreement.objects.update_or_create(
        queue=queue,
        month=month.replace(day=1),
        defaults={
            "mql_target": mql_target,
            "first_touch_hours": first_touch_hours,
            "attempts_before_recycle": attempts_before_recycle,
            "updated_by": actor,
        },
    )
    return agreement
