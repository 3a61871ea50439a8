from rest_framework import serializers

from .models import Campaign


class CampaignSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None, read_only=True)
    target_segment = serializers.CharField(source="target_segment.name", default=None, read_only=True)

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
            "goal",
            "created_at",
        ]
        read_only_fields = fields
