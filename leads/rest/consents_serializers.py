from rest_framework import serializers

from ..models import ConsentPurpose, ConsentRecord


class ConsentRecordSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = ConsentRecord
        fields = ["id", "purpose", "granted", "source", "recorded_at", "evidence", "actor"]
        read_only_fields = fields


class ConsentFlagsSerializer(serializers.Serializer):
    email_opt_in = serializers.BooleanField()
    do_not_call = serializers.BooleanField()
    do_not_contact = serializers.BooleanField()
    do_not_profile = serializers.BooleanField()


class LeadConsentsSerializer(serializers.Serializer):
    lead = serializers.IntegerField()
    flags = ConsentFlagsSerializer()
    records = ConsentRecordSerializer(many=True)


class ConsentInSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    granted = serializers.BooleanField()
    evidence = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    def validate_evidence(self, value: str) -> str:
        if "\x00" in value:
            raise serializers.ValidationError("Must not contain NUL characters.")
        return value
