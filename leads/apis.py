from drf_spectacular.utils import extend_schema
from rest_framework import viewsets

from .filters import LeadFilter
from .models import Lead, Segment
from .selectors import lead_list_for_user
from .serializers import LeadSerializer, SegmentSerializer


@extend_schema(tags=["leads"])
class LeadViewSet(viewsets.ReadOnlyModelViewSet):
    """Leads. Marketing and managers see all; a rep sees the leads they own."""

    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    search_fields = ["email", "first_name", "last_name", "company"]
    ordering_fields = ["score", "created_at", "qualified_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Lead.objects.none()
        return lead_list_for_user(user=self.request.user)


@extend_schema(tags=["segments"])
class SegmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Prospect definitions. Every role reads them; marketing changes them."""

    serializer_class = SegmentSerializer
    queryset = Segment.objects.all()
    search_fields = ["name"]
