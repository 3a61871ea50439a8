from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from config.api.schema import request_example

from ..selectors import learned_model_list
from ..services import exclusions_validate, learned_model_activate, learned_model_queue
from .learned_models_serializers import (
    LearnedModelDetailSerializer,
    LearnedModelSerializer,
    TrainQueuedSerializer,
    TrainRequestSerializer,
)


class LearnedModelPermission(BasePermission):
    """Every role reads versions (``learning.view_learnedmodel``); marketing trains
    (``add``) and activates (``change``)."""

    message = "Only marketing can train or activate learned models."
    needs = {"train": "learning.add_learnedmodel", "activate": "learning.change_learnedmodel"}

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return user.has_perm(self.needs.get(getattr(view, "action", None), "learning.view_learnedmodel"))


@extend_schema(tags=["learned scoring"])
class LearnedModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Versions of the learned model with their metrics; the detail adds the weights table."""

    permission_classes = [LearnedModelPermission]
    queryset = learned_model_list()
    ordering_fields = ["version", "trained_at"]
    filterset_fields = ["status", "is_active"]

    def get_queryset(self):
        qs = learned_model_list()
        if self.action == "retrieve":
            qs = qs.prefetch_related("weights")
        return qs

    def get_serializer_class(self):
        return LearnedModelDetailSerializer if self.action in ("retrieve", "activate") else LearnedModelSerializer

    @extend_schema(
        request=TrainRequestSerializer,
        responses={202: TrainQueuedSerializer},
        examples=[request_example("Train without the country", {"excluded_features": ["country"]})],
    )
    @action(detail=False, methods=["post"])
    def train(self, request):
        """Queue a training run (marketing queue): the new version is listed at once as
        ``queued``, then ``running`` with ``progress`` (per cent) and ``progress_step``, then
        ``ready``, ``insufficient_data`` or ``failed`` (the error in ``note``)."""
        data = TrainRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        excluded = data.validated_data.get("excluded_features")
        if excluded is not None:
            excluded = exclusions_validate(excluded)
        version = learned_model_queue(actor=request.user, excluded_features=excluded)
        return Response(
            {
                "status": "queued",
                "id": version.pk,
                "version": version.version,
                "excluded_features": None if excluded is None else version.excluded_features,
            },
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(request=None, responses=LearnedModelDetailSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """Make this version score leads; every lead is re-scored after commit."""
        model = self.get_object()
        model = learned_model_activate(model_id=model.pk, actor=request.user)
        return Response(LearnedModelDetailSerializer(model).data)
