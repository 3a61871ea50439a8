"""Forms for the marketer pages. They parse and label input; the services validate it."""

from django import forms
from django.core.exceptions import ValidationError

from leads.api import Segment

from .models import CampaignKind, CampaignStatus, CollateralKind, FunnelStage, MemberStatus, ObjectionCategory


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, on the named field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field.removesuffix("_id") if field.removesuffix("_id") in form.fields else field
            for message in messages:
                form.add_error(target if target in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _comma_list(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(label="Type", choices=CampaignKind.choices)
    status = forms.ChoiceField(choices=CampaignStatus.choices, initial=CampaignStatus.PLANNED)
    starts_on = forms.DateField(label="Starts on", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Ends on", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    budget = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2, initial=0)
    actual_cost = forms.DecimalField(label="Actual cost", min_value=0, max_digits=12, decimal_places=2, initial=0)
    target_segment = forms.ModelChoiceField(
        label="Target segment", queryset=Segment.objects.order_by("name"), required=False
    )
    goal = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        segment = data.pop("target_segment")
        data["target_segment_id"] = segment.pk if segment else None
        return data


class SegmentAddForm(forms.Form):
    segment = forms.ModelChoiceField(
        label="Add members from segment",
        queryset=Segment.objects.order_by("name"),
        required=False,
        empty_label="The campaign's target segment",
    )


class MemberAddForm(forms.Form):
    lead_email = forms.EmailField(label="Add one lead (email)")


class MemberStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=MemberStatus.choices)


class InfluenceForm(forms.Form):
    model = forms.ChoiceField(
        label="Influence model",
        choices=[("first", "First touch"), ("last", "Last touch"), ("even", "Even split")],
        required=False,
    )


class CollateralForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=CollateralKind.choices)
    file = forms.FileField(
        required=False, help_text="PDF, PNG, JPEG, MP4, PPTX or DOCX. Leave empty for a web page (give its URL)."
    )
    url = forms.URLField(label="URL", required=False, assume_scheme="https")
    industries = forms.CharField(required=False, help_text="Comma-separated, e.g. software, retail.")
    products = forms.CharField(required=False, help_text="Comma-separated.")
    funnel_stage = forms.ChoiceField(
        label="Funnel stage", choices=[("", "Any stage"), *FunnelStage.choices], required=False
    )
    objection_categories = forms.MultipleChoiceField(
        label="Objections it answers",
        choices=ObjectionCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    approved_segments = forms.ModelMultipleChoiceField(
        label="Approved for segments",
        queryset=Segment.objects.order_by("name"),
        required=False,
        help_text="Leave empty to approve the item for every lead.",
    )
    expires_on = forms.DateField(label="Expires on", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def tag_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "industries": _comma_list(data["industries"]),
            "products": _comma_list(data["products"]),
            "funnel_stage": data["funnel_stage"],
            "objection_categories": data["objection_categories"],
            "expires_on": data["expires_on"],
        }


class CollateralEditForm(CollateralForm):
    """Editing keeps the item's file or URL kind; a new file goes through the version upload."""

    def __init__(self, *args, is_file: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["file"]
        if is_file:
            del self.fields["url"]


class VersionUploadForm(forms.Form):
    file = forms.FileField(label="New version", help_text="Becomes the current version; older ones are kept.")


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How likely are you to recommend us to a friend or colleague? (0-10)",
        choices=[(n, str(n)) for n in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label="Anything you would like to tell us?", widget=forms.Textarea, required=False)
