"""The scoring rule set through the API: read by marketing and managers, changed by marketing,
versioned exactly as on /marketing/scoring/ (``leads.rule_sets``: every save or restore is a
new version and re-scores every lead in the background)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import request_example

from ..models import RuleSetVersion
from ..rule_sets import rule_set_restore, rule_set_save, rule_set_snapshot, rule_set_versions
from .scoring_serializers import (
    RuleSetRestoreSerializer,
    RuleSetSerializer,
    RuleSetVersionSerializer,
    RuleSetWriteSerializer,
)


class ScoringPermission(BasePermission):
    message = "Marketing changes the scoring rules; marketing and managers read them."

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in SAFE_METHODS:
            return user.has_perm("leads.view_scoringrule") and user.has_perm("leads.view_scoringpolicy")
        return user.has_perm("leads.change_scoringrule") and user.has_perm("leads.change_scoringpolicy")


def _current() -> dict:
    latest = RuleSetVersion.objects.order_by("-number").values_list("number", flat=True).first()
    return {"version": latest, **rule_set_snapshot()}


@extend_schema(tags=["scoring"])
class RuleSetApi(APIView):
    """The rule set in force: the active rules and the policy (threshold, fit minimum, ...)."""

    permission_classes = [ScoringPermission]

    @extend_schema(responses=RuleSetSerializer)
    def get(self, request):
        return Response(RuleSetSerializer(_current()).data)

    @extend_schema(
        request=RuleSetWriteSerializer,
        responses={201: RuleSetVersionSerializer},
        examples=[
            request_example(
                "One fit rule and the policy",
                {
                    "rules": [
                        {
                            "name": "Software",
                            "kind": "fit",
                            "field": "industry",
                            "operator": "eq",
                            "value": "software",
                            "points": 40,
                        }
                    ],
                    "policy": {
                        "threshold": 50,
                        "fit_minimum": 10,
                        "default_half_life_days": 30,
                        "rejection_penalty": 0,
                        "learned_mode": "off",
                        "learned_weight": 0,
                    },
                    "note": "Software counts for more",
                },
            )
        ],
    )
    def put(self, request):
        """Save the whole rule set as a new version (a rule left out is deactivated); errors
        name the field (``threshold``, ``rules.2.points``)."""
        data = RuleSetWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = rule_set_save(actor=request.user, **data.validated_data)
        return Response(RuleSetVersionSerializer(version).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["scoring"])
class RuleSetVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every saved version, newest first; restoring one saves it again as the newest."""

    serializer_class = RuleSetVersionSerializer
    permission_classes = [ScoringPermission]
    ordering_fields = ["number"]
    filter_backends: list = []

    def get_queryset(self):
        return rule_set_versions()

    @extend_schema(
        request=RuleSetRestoreSerializer,
        responses={201: RuleSetVersionSerializer},
        examples=[request_example("Back to last week's rules", {"note": "The new threshold let too few through"})],
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        old = self.get_object()
        data = RuleSetRestoreSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = rule_set_restore(version_id=old.pk, note=data.validated_data.get("note", ""), actor=request.user)
        return Response(RuleSetVersionSerializer(version).data, status=status.HTTP_201_CREATED)
