from rest_framework import serializers

from ..models import LearnedModel, LearnedWeight


class LearnedWeightSerializer(serializers.ModelSerializer):
    class Meta:
        model = LearnedWeight
        fields = ["feature", "kind", "value", "lower", "upper", "is_missing", "weight"]


class LearnedModelSerializer(serializers.ModelSerializer):
    trained_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    activated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = LearnedModel
        fields = [
            "id",
            "version",
            "status",
            "progress",
            "progress_step",
            "note",
            "is_active",
            "window_start",
            "window_end",
            "excluded_features",
            "negative_reasons",
            "positives",
            "negatives",
            "metrics",
            "trained_by",
            "trained_at",
            "activated_by",
            "activated_at",
        ]
        read_only_fields = fields


class LearnedModelDetailSerializer(LearnedModelSerializer):
    weights = LearnedWeightSerializer(many=True, read_only=True)
    intercept = serializers.FloatField(read_only=True)

    class Meta(LearnedModelSerializer.Meta):
        fields = [*LearnedModelSerializer.Meta.fields, "intercept", "weights"]
        read_only_fields = fields


class TrainRequestSerializer(serializers.Serializer):
    excluded_features = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        allow_empty=True,
        help_text="Features to leave out (default: the policy's default exclusions).",
    )


class TrainQueuedSerializer(serializers.Serializer):
    status = serializers.CharField()
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    excluded_features = serializers.ListField(child=serializers.CharField(), allow_null=True)
