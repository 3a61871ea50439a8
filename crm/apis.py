from drf_spectacular.utils import extend_schema
from rest_framework import viewsets

from .models import Assignment
from .selectors import assignment_list_for_user
from .serializers import AssignmentSerializer


@extend_schema(tags=["hand-off"])
class AssignmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Hand-off assignments. A rep sees only theirs; managers see all."""

    serializer_class = AssignmentSerializer
    filterset_fields = ["status", "queue"]
    ordering_fields = ["handed_off_at", "sla_due_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Assignment.objects.none()
        return assignment_list_for_user(user=self.request.user)
