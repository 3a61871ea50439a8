from drf_spectacular.utils import extend_schema
from rest_framework import viewsets

from .models import Campaign
from .serializers import CampaignSerializer


@extend_schema(tags=["campaigns"])
class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.select_related("owner", "target_segment")
    filterset_fields = ["kind", "status"]
    search_fields = ["name"]
