from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.text_limits import NOTE_MAX_LENGTH

from ..models import Assignment, QueueMembership, RejectReason, SalesQueue


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "09:00:00"})
class ClockTimeField(serializers.TimeField):
    """A wall-clock time in the queue's own time zone, e.g. ``09:00:00`` (no UTC offset, so
    not OpenAPI's ``format: time``, which requires one)."""


class AssignmentSerializer(serializers.ModelSerializer):
    lead_name = serializers.CharField(source="lead.full_name", read_only=True)
    lead_email = serializers.CharField(source="lead.email", read_only=True)
    lead_stage = serializers.CharField(source="lead.stage", read_only=True)
    queue = serializers.CharField(source="queue.name", read_only=True)
    queue_id = serializers.IntegerField(read_only=True)
    rep = serializers.CharField(source="rep.username", default=None, allow_null=True, read_only=True)
    rep_id = serializers.IntegerField(read_only=True, allow_null=True)
    rejected_reason = serializers.ChoiceField(choices=RejectReason.choices, allow_blank=True, read_only=True)
    rejected_reason_label = serializers.CharField(source="get_rejected_reason_display", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "lead",
            "lead_name",
            "lead_email",
            "lead_stage",
            "queue",
            "queue_id",
            "rep",
            "rep_id",
            "status",
            "handed_off_at",
            "assigned_at",
            "sla_due_at",
            "accepted_at",
            "first_touch_at",
            "rejected_at",
            "rejected_reason",
            "rejected_reason_label",
            "rejected_note",
            "sla_breached_at",
            "closed_at",
            "previous",
        ]
        read_only_fields = fields


class AssignmentRejectSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RejectReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)


class AssignmentReassignSerializer(serializers.Serializer):
    rep_id = serializers.IntegerField(min_value=1)


class QueueMemberSerializer(serializers.ModelSerializer):
    rep = serializers.CharField(source="rep.username", read_only=True)
    open_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = QueueMembership
        fields = ["rep_id", "rep", "capacity", "open_count", "is_active", "away_until"]
        read_only_fields = fields


class SalesQueueSerializer(serializers.ModelSerializer):
    segment_name = serializers.CharField(source="segment.name", default=None, allow_null=True, read_only=True)
    manager = serializers.CharField(source="manager.username", default=None, allow_null=True, read_only=True)
    members = QueueMemberSerializer(source="memberships", many=True, read_only=True)
    waiting_count = serializers.IntegerField(read_only=True)
    business_hours_start = ClockTimeField(read_only=True)
    business_hours_end = ClockTimeField(read_only=True)

    class Meta:
        model = SalesQueue
        fields = [
            "id",
            "name",
            "segment",
            "segment_name",
            "priority",
            "strategy",
            "sla_minutes",
            "sla_action",
            "business_hours_start",
            "business_hours_end",
            "business_days",
            "timezone",
            "manager",
            "is_active",
            "waiting_count",
            "members",
        ]
        read_only_fields = fields
