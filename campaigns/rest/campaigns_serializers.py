"""API shapes. Output serializers read annotated querysets from the selectors; input
serializers only parse, the services validate."""

from django.urls import reverse
from rest_framework import serializers

from config.text_limits import NOTE_MAX_LENGTH

from ..models import (
    Campaign,
    CampaignKind,
    CampaignMember,
    CampaignStatus,
    Collateral,
    CollateralKind,
    CollateralShare,
    CollateralVersion,
    CustomerFeedback,
    FunnelStage,
    MemberStatus,
    ObjectionCategory,
)


class CampaignSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True, read_only=True)
    target_segment = serializers.CharField(source="target_segment.name", default=None, allow_null=True, read_only=True)
    target_segment_id = serializers.IntegerField(read_only=True, allow_null=True)
    member_count = serializers.IntegerField(read_only=True, default=0)
    responded_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "kind",
            "status",
            "starts_on",
            "ends_on",
            "budget",
            "actual_cost",
            "owner",
            "target_segment",
            "target_segment_id",
            "goal",
            "member_count",
            "responded_count",
            "created_at",
        ]
        read_only_fields = fields


class CampaignWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=CampaignKind.choices)
    status = serializers.ChoiceField(choices=CampaignStatus.choices, required=False)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    budget = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    actual_cost = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    target_segment_id = serializers.IntegerField(required=False, allow_null=True)
    goal = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH)


class CampaignMemberSerializer(serializers.ModelSerializer):
    lead_email = serializers.EmailField(source="lead.email", read_only=True)
    lead_stage = serializers.CharField(source="lead.stage", read_only=True)
    survey_link = serializers.SerializerMethodField()

    class Meta:
        model = CampaignMember
        fields = ["id", "lead_id", "lead_email", "lead_stage", "status", "added_at", "responded_at", "survey_link"]
        read_only_fields = fields

    def get_survey_link(self, member) -> str | None:
        """The member's personal survey link (survey campaigns only)."""
        if member.campaign.kind != CampaignKind.SURVEY:
            return None
        from ..services.feedback import survey_token

        path = reverse("campaigns:survey", args=[survey_token(member)])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class InfluenceQuerySerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=["first", "last", "even"], default="even")


class InfluenceSerializer(serializers.Serializer):
    model = serializers.CharField()
    won_outcomes = serializers.IntegerField(help_text="Won outcomes of this campaign's members.")
    won_touched = serializers.IntegerField(help_text="Of those, how many the campaign touched before the close.")
    won_credit = serializers.FloatField(help_text="Won deals credited to this campaign under the model.")
    lost_outcomes = serializers.IntegerField()
    lost_credit = serializers.FloatField()
    untouched = serializers.IntegerField(help_text="Outcomes with no campaign touch before the close.")


class FeedbackSerializer(serializers.ModelSerializer):
    lead_email = serializers.EmailField(source="lead.email", read_only=True)
    campaign = serializers.CharField(source="campaign.name", default=None, allow_null=True, read_only=True)
    entered_by = serializers.CharField(source="entered_by.username", default=None, allow_null=True, read_only=True)

    class Meta:
        model = CustomerFeedback
        fields = [
            "id",
            "lead_id",
            "lead_email",
            "campaign_id",
            "campaign",
            "rating",
            "comment",
            "source",
            "entered_by",
            "created_at",
        ]
        read_only_fields = fields


class FeedbackWriteSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField()
    rating = serializers.IntegerField(help_text="0 (not at all likely) to 10 (extremely likely).")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH)
    campaign_id = serializers.IntegerField(required=False, allow_null=True)


class MemberAddSerializer(serializers.Serializer):
    """Give ``lead_id`` to add one lead, or ``segment_id`` (or ``from_target_segment``) to add
    a whole segment in one statement."""

    lead_id = serializers.IntegerField(required=False)
    segment_id = serializers.IntegerField(required=False)
    from_target_segment = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        chosen = sum(bool(x) for x in (attrs.get("lead_id"), attrs.get("segment_id"), attrs.get("from_target_segment")))
        if chosen != 1:
            raise serializers.ValidationError(
                {"lead_id": "Give exactly one of lead_id, segment_id or from_target_segment."}
            )
        return attrs


class MemberAddedSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    skipped = serializers.IntegerField()
    skipped_by_reason = serializers.DictField(child=serializers.IntegerField())


class MembersChangedSerializer(serializers.Serializer):
    changed = serializers.IntegerField()


class ResponseSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField()
    reference = serializers.CharField(required=False, allow_blank=True, max_length=80)
    occurred_at = serializers.DateTimeField(required=False)


class MemberStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MemberStatus.choices)


class CollateralVersionSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", default=None, allow_null=True, read_only=True)

    class Meta:
        model = CollateralVersion
        fields = ["id", "number", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
        read_only_fields = fields


class CollateralSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True, read_only=True)
    current_version = CollateralVersionSerializer(read_only=True, allow_null=True)
    # blank for an uploaded file: a plain string, not OpenAPI's format uri (which "" is not)
    url = serializers.CharField(read_only=True)
    funnel_stage = serializers.ChoiceField(choices=FunnelStage.choices, allow_blank=True, read_only=True)
    approved_segment_ids = serializers.SerializerMethodField()
    share_count = serializers.IntegerField(read_only=True, default=0)
    view_count = serializers.IntegerField(read_only=True, default=0)
    last_shared_at = serializers.DateTimeField(read_only=True, default=None, allow_null=True)
    is_stale = serializers.BooleanField(read_only=True, default=False)

    class Meta:
        model = Collateral
        fields = [
            "id",
            "title",
            "kind",
            "url",
            "industries",
            "products",
            "funnel_stage",
            "objection_categories",
            "approved_segment_ids",
            "owner",
            "expires_on",
            "is_archived",
            "current_version",
            "share_count",
            "view_count",
            "last_shared_at",
            "is_stale",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_approved_segment_ids(self, item) -> list[int]:
        return [segment.pk for segment in item.approved_segments.all()]


class CollateralWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=CollateralKind.choices, required=False)
    file = serializers.FileField(required=False, allow_empty_file=True, use_url=False)
    url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    industries = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    products = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    funnel_stage = serializers.ChoiceField(choices=[("", "Any"), *FunnelStage.choices], required=False)
    objection_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=ObjectionCategory.choices), required=False
    )
    approved_segment_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    expires_on = serializers.DateField(required=False, allow_null=True)


class VersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)


class ShareRequestSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField()


class CollateralShareSerializer(serializers.ModelSerializer):
    link = serializers.SerializerMethodField()
    shared_by = serializers.CharField(source="shared_by.username", default=None, allow_null=True, read_only=True)

    class Meta:
        model = CollateralShare
        fields = ["id", "collateral_id", "lead_id", "shared_by", "shared_at", "revoked_at", "token", "link"]
        read_only_fields = fields

    def get_link(self, share) -> str:
        path = reverse("campaigns:collateral-link", args=[share.token])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path
