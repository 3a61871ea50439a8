from rest_framework import serializers

from config.text_limits import NOTE_MAX_LENGTH

from ..models import LEAD_PROFILE_FIELDS, EngagementKind, Lead, LeadSource, Segment, SegmentVersion


class LeadSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            *LEAD_PROFILE_FIELDS,
            "custom_attributes",
            "email_opt_in",
            "do_not_call",
            "do_not_contact",
            "do_not_profile",
            "stage",
            "fit_score",
            "engagement_score",
            "learned_score",
            "score",
            "score_breakdown",
            "qualified_at",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LeadWriteSerializer(serializers.Serializer):
    """The fields a client may send (every one optional in a PATCH). Values are cleaned by the
    same code as capture forms and CSV imports (``leads.intake.lead_values_clean``); an empty
    value leaves the field as it is, and consent and opt-outs only tighten."""

    email = serializers.EmailField(required=False, max_length=254)
    first_name = serializers.CharField(required=False, max_length=100)
    last_name = serializers.CharField(required=False, max_length=100)
    phone = serializers.CharField(required=False, max_length=40)
    title = serializers.CharField(required=False, max_length=150)
    company = serializers.CharField(required=False, max_length=200)
    company_domain = serializers.CharField(required=False, max_length=253)
    industry = serializers.CharField(required=False, max_length=100)
    employees = serializers.IntegerField(required=False, min_value=0, max_value=10_000_000)
    country = serializers.CharField(required=False, min_length=2, max_length=2)
    timezone = serializers.CharField(required=False, max_length=64)
    source = serializers.ChoiceField(required=False, choices=LeadSource.choices)
    custom_attributes = serializers.DictField(required=False, child=serializers.JSONField())
    email_opt_in = serializers.BooleanField(required=False)
    do_not_call = serializers.BooleanField(required=False)
    do_not_contact = serializers.BooleanField(required=False)


class LeadBulkSerializer(serializers.Serializer):
    leads = LeadWriteSerializer(many=True)


class LeadBulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())


class LeadSampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = ["id", "email", "first_name", "last_name", "company", "industry", "country", "stage", "score"]
        read_only_fields = fields


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "name", "description", "definition", "is_icp", "version", "member_count", "counted_at"]
        read_only_fields = fields


class SegmentWriteSerializer(serializers.Serializer):
    """Input of create and update; the rule tree itself is validated by the segment compiler,
    whose errors name the path in the tree (``definition.all.0.value``)."""

    name = serializers.CharField(max_length=150)
    description = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH)
    definition = serializers.JSONField()
    is_icp = serializers.BooleanField(required=False)


class SegmentPreviewSerializer(serializers.Serializer):
    definition = serializers.JSONField()
    sample = serializers.IntegerField(required=False, min_value=0, max_value=100)


class SegmentVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True, read_only=True)

    class Meta:
        model = SegmentVersion
        fields = ["version", "definition", "member_count", "created_by", "created_at"]
        read_only_fields = fields


class EngagementEventInSerializer(serializers.Serializer):
    """One event: the lead by ``lead`` (id) or ``email``; with an unknown email a lead is created
    only when the event carries enough to make one (``lead_fields`` with at least a name or a
    company)."""

    lead = serializers.IntegerField(required=False, min_value=1)
    email = serializers.EmailField(required=False, max_length=254)
    kind = serializers.ChoiceField(choices=EngagementKind.choices)
    occurred_at = serializers.DateTimeField(required=False)
    source_reference = serializers.CharField(required=False, allow_blank=True, max_length=200)
    lead_fields = serializers.DictField(required=False)

    def validate(self, attrs):
        if not attrs.get("lead") and not attrs.get("email"):
            raise serializers.ValidationError({"lead": "Give the lead's id ('lead') or its 'email'."})
        return attrs


class EventRecordedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField()
    created = serializers.BooleanField(help_text="False for a repeat of (lead, kind, source_reference).")
    lead_created = serializers.BooleanField()


class EventsRecordedSerializer(serializers.Serializer):
    events = EventRecordedSerializer(many=True)
