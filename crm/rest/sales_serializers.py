"""Serializers of the sales API. Output serializers are read-only; input serializers name
exactly the fields a caller may set, so owner, stage, score and timestamps cannot be written
(unknown keys are ignored)."""

from __future__ import annotations

from rest_framework import serializers

from campaigns.api import ObjectionCategory
from config.text_limits import NOTE_MAX_LENGTH

from ..models import OPEN_DEAL_STAGES, Account, Call, CallOutcome, Contact, Deal, LostReason, ObjectionNote


class ObjectionNoteSerializer(serializers.ModelSerializer):
    collateral_title = serializers.CharField(source="collateral.title", default=None, allow_null=True, read_only=True)
    rep = serializers.IntegerField(source="call.rep_id", read_only=True)

    class Meta:
        model = ObjectionNote
        fields = [
            "id",
            "call",
            "lead",
            "rep",
            "category",
            "said",
            "response",
            "overcome",
            "collateral",
            "collateral_title",
            "created_at",
        ]
        read_only_fields = fields


class CallSerializer(serializers.ModelSerializer):
    rep = serializers.CharField(source="rep.username", read_only=True)
    objections = serializers.SerializerMethodField()

    class Meta:
        model = Call
        fields = [
            "id",
            "rep",
            "lead",
            "contact",
            "assignment",
            "outcome",
            "duration_seconds",
            "notes",
            "called_at",
            "next_step_at",
            "created_at",
            "objections",
        ]
        read_only_fields = fields

    def get_objections(self, call) -> list[dict]:
        return [
            {
                "id": o.id,
                "category": o.category,
                "said": o.said,
                "response": o.response,
                "overcome": o.overcome,
                "collateral": o.collateral_id,
            }
            for o in call.objections.all()
        ]


class ObjectionInputSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=ObjectionCategory.choices)
    said = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)
    response = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)
    overcome = serializers.BooleanField(required=False, default=False)
    collateral_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class CallCreateSerializer(serializers.Serializer):
    lead = serializers.IntegerField(required=False, allow_null=True, default=None)
    contact = serializers.IntegerField(required=False, allow_null=True, default=None)
    outcome = serializers.ChoiceField(choices=CallOutcome.choices)
    duration_seconds = serializers.IntegerField(required=False, default=0)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)
    called_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    next_step_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    objections = ObjectionInputSerializer(many=True, required=False, default=list)

    def validate(self, data):
        if data.get("lead") is None and data.get("contact") is None:
            raise serializers.ValidationError({"lead": "Name the lead or the contact that was called."})
        return data


class DealSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    lost_reason = serializers.ChoiceField(choices=LostReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Deal
        fields = [
            "id",
            "name",
            "account",
            "account_name",
            "contact",
            "lead",
            "owner",
            "stage",
            "amount",
            "currency",
            "expected_close_on",
            "closed_at",
            "lost_reason",
            "lost_note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DealConvertSerializer(serializers.Serializer):
    lead = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    currency = serializers.CharField(required=False, default="EUR", max_length=3, min_length=3)
    expected_close_on = serializers.DateField(required=False, allow_null=True, default=None)


class DealUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200)
    amount = serializers.DecimalField(required=False, max_digits=12, decimal_places=2)
    currency = serializers.CharField(required=False, max_length=3, min_length=3)
    expected_close_on = serializers.DateField(required=False, allow_null=True)


class DealMoveSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=[(s, s) for s in OPEN_DEAL_STAGES])


class DealCloseSerializer(serializers.Serializer):
    won = serializers.BooleanField()
    lost_reason = serializers.ChoiceField(choices=LostReason.choices, required=False, allow_blank=True, default="")
    lost_note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)


class AccountSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "domain",
            "industry",
            "employees",
            "country",
            "owner",
            "is_customer",
            "next_check_in_on",
            "created_at",
        ]
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "account_name",
            "lead",
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "created_at",
        ]
        read_only_fields = fields


class ScoreReasonSerializer(serializers.Serializer):
    label = serializers.CharField()
    points = serializers.FloatField()


class CallListRowSerializer(serializers.Serializer):
    lead = serializers.IntegerField(source="lead.pk")
    name = serializers.CharField(source="lead.full_name")
    email = serializers.CharField(source="lead.email")
    phone = serializers.CharField(source="lead.phone")
    company = serializers.CharField(source="lead.company")
    score = serializers.FloatField(source="lead.score")
    stage = serializers.CharField(source="lead.stage")
    assignment = serializers.IntegerField(source="assignment.pk", default=None, allow_null=True)
    bucket = serializers.IntegerField()
    bucket_label = serializers.CharField()
    outside_calling_hours = serializers.BooleanField(source="outside_hours")
    local_time = serializers.CharField()
    reasons = ScoreReasonSerializer(many=True)
    source_campaign = serializers.CharField(allow_null=True)
    sla_due_at = serializers.DateTimeField(allow_null=True)
    sla_seconds_left = serializers.IntegerField(allow_null=True)
    next_follow_up_at = serializers.DateTimeField(allow_null=True)
    check_in_on = serializers.DateField(allow_null=True)
    last_touch_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()


class CallListSerializer(serializers.Serializer):
    results = CallListRowSerializer(many=True)


class ObjectionSummarySerializer(serializers.Serializer):
    category = serializers.CharField()
    total = serializers.IntegerField()
    overcome = serializers.IntegerField()


class DealSummarySerializer(serializers.Serializer):
    stage = serializers.CharField()
    lost_reason = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class AccountWriteSerializer(serializers.Serializer):
    """A new account, or the fields to change (PATCH). ``owner`` (a user id) only by managers;
    a rep's new account is theirs."""

    name = serializers.CharField(max_length=200)
    domain = serializers.CharField(max_length=253, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    employees = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False, allow_null=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    is_customer = serializers.BooleanField(required=False)
    next_check_in_on = serializers.DateField(required=False, allow_null=True)
    owner = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)


class ContactWriteSerializer(serializers.Serializer):
    """A new contact, or the fields to change (PATCH). ``lead`` links the contact to a lead the
    caller can see (at most one contact per lead)."""

    account = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    lead = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    title = serializers.CharField(max_length=150, required=False, allow_blank=True)
