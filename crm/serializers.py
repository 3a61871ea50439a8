from rest_framework import serializers

from .models import Assignment


class AssignmentSerializer(serializers.ModelSerializer):
    lead_name = serializers.CharField(source="lead.full_name", read_only=True)
    lead_email = serializers.CharField(source="lead.email", read_only=True)
    queue = serializers.CharField(source="queue.name", read_only=True)
    rep = serializers.CharField(source="rep.username", default=None, read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "lead",
            "lead_name",
            "lead_email",
            "queue",
            "rep",
            "status",
            "handed_off_at",
            "assigned_at",
            "sla_due_at",
            "accepted_at",
            "first_touch_at",
            "rejected_at",
            "rejected_reason",
            "rejected_note",
            "sla_breached_at",
        ]
        read_only_fields = fields
