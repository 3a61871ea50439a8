"""The hand-off API: `/api/queues/` and `/api/assignments/` with `accept`, `reject` and
`reassign`. Views parse input, find the row through the role's selector (another rep's
assignment is a 404) and call one service."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api.schema import request_example
from config.roles import is_manager, is_rep

from ..models import Assignment, SalesQueue
from ..selectors import assignment_list_for_user, queue_list_for_user
from ..services.handoff import assignment_accept, assignment_reassign, assignment_reject
from .handoff_serializers import (
    AssignmentReassignSerializer,
    AssignmentRejectSerializer,
    AssignmentSerializer,
    SalesQueueSerializer,
)


@extend_schema(tags=["hand-off"])
class SalesQueueViewSet(viewsets.ReadOnlyModelViewSet):
    """Sales queues with their members and load. Managers and marketing read all; a rep the
    queues they work."""

    serializer_class = SalesQueueSerializer
    filterset_fields = ["is_active", "strategy"]
    search_fields = ["name"]
    ordering_fields = ["priority", "name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return SalesQueue.objects.none()
        return queue_list_for_user(user=self.request.user)


@extend_schema(tags=["hand-off"])
class AssignmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Hand-off assignments. A rep sees only theirs; managers see all; marketing sees the
    rejected ones (with the reason)."""

    serializer_class = AssignmentSerializer
    filterset_fields = ["status", "queue", "rep", "rejected_reason"]
    ordering_fields = ["handed_off_at", "sla_due_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Assignment.objects.none()
        return assignment_list_for_user(user=self.request.user)

    def _answer(self, assignment: Assignment) -> Response:
        fresh = self.get_queryset().get(pk=assignment.pk)
        return Response(AssignmentSerializer(fresh).data)

    def _ensure_sales(self) -> None:
        if not (is_rep(self.request.user) or is_manager(self.request.user)):
            raise PermissionDenied("Only sales reps and managers can answer a hand-off.")

    @extend_schema(request=None, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The rep takes the lead (lead -> SAL)."""
        assignment = self.get_object()
        self._ensure_sales()
        return self._answer(assignment_accept(assignment_id=assignment.pk, actor=request.user))

    @extend_schema(
        request=AssignmentRejectSerializer,
        responses=AssignmentSerializer,
        examples=[request_example("Not a fit", {"reason": "not_a_fit", "note": "They build hardware, not software"})],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """The rep sends the lead back to marketing with a reason ("other" needs a note)."""
        assignment = self.get_object()
        self._ensure_sales()
        data = AssignmentRejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            assignment_reject(
                assignment_id=assignment.pk,
                reason=data.validated_data["reason"],
                note=data.validated_data["note"],
                actor=request.user,
            )
        )

    @extend_schema(
        request=AssignmentReassignSerializer,
        responses=AssignmentSerializer,
        examples=[request_example("To another rep", {"rep_id": 7})],
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """A manager moves the lead to another rep; the answer is the assignment now active."""
        assignment = self.get_object()
        if not is_manager(request.user):
            raise PermissionDenied("Only sales managers can reassign leads.")
        data = AssignmentReassignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            assignment_reassign(assignment_id=assignment.pk, rep_id=data.validated_data["rep_id"], actor=request.user)
        )
