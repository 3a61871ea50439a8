from rest_framework import serializers

from ..models import RuleSetVersion


class ScoringRuleDataSerializer(serializers.Serializer):
    """One rule as the rule set stores it (``leads.rule_sets.RULE_KEYS``); ``id`` names an
    existing rule to change, none makes a new one."""

    id = serializers.IntegerField(required=False, allow_null=True)
    name = serializers.CharField()
    kind = serializers.CharField(help_text="fit, engagement or segment.")
    field = serializers.CharField(required=False, allow_blank=True)
    operator = serializers.CharField(required=False, allow_blank=True)
    value = serializers.JSONField(required=False, allow_null=True)
    segment_id = serializers.IntegerField(required=False, allow_null=True)
    points = serializers.FloatField(required=False, allow_null=True)
    event_kind = serializers.CharField(required=False, allow_blank=True)
    points_per_event = serializers.FloatField(required=False, allow_null=True)
    cap = serializers.FloatField(required=False, allow_null=True)
    half_life_days = serializers.FloatField(required=False, allow_null=True)


class ScoringPolicyDataSerializer(serializers.Serializer):
    threshold = serializers.FloatField(help_text="Score at or above which a lead qualifies (MQL).")
    fit_minimum = serializers.IntegerField()
    default_half_life_days = serializers.FloatField()
    rejection_penalty = serializers.FloatField(required=False)
    learned_mode = serializers.CharField(required=False)
    learned_weight = serializers.FloatField(required=False)


class RuleSetSerializer(serializers.Serializer):
    """The rule set in force, and the number of the version that put it there (null before
    the first save)."""

    version = serializers.IntegerField(allow_null=True)
    rules = ScoringRuleDataSerializer(many=True)
    policy = ScoringPolicyDataSerializer()


class RuleSetWriteSerializer(serializers.Serializer):
    rules = serializers.ListField(child=serializers.DictField())
    policy = serializers.DictField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RuleSetRestoreSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RuleSetVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True, read_only=True)
    restored_from = serializers.IntegerField(
        source="restored_from.number", default=None, allow_null=True, read_only=True
    )

    class Meta:
        model = RuleSetVersion
        fields = [
            "id",
            "number",
            "rules",
            "policy",
            "changes",
            "note",
            "restored_from",
            "created_by",
            "created_at",
            "rescore_status",
            "rescore_total",
            "rescore_done",
        ]
        read_only_fields = fields
