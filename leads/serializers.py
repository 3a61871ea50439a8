from rest_framework import serializers

from .models import Lead, Segment


class LeadSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None, read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "company",
            "company_domain",
            "industry",
            "employees",
            "country",
            "timezone",
            "source",
            "custom_attributes",
            "email_opt_in",
            "do_not_call",
            "do_not_contact",
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


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "name", "description", "definition", "is_icp", "version", "member_count", "counted_at"]
        read_only_fields = fields
