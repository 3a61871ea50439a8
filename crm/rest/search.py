"""GET /api/search/?q= : the header search as JSON, with the same row rules as the pages."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from ..search import search_for_user
from .search_serializers import SearchGroupSerializer, SearchQuerySerializer, SearchResponseSerializer


class SearchApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True, description="Name, e-mail, phone, company or domain.")],
        responses=SearchResponseSerializer,
    )
    def get(self, request):
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        groups = search_for_user(user=request.user, query=params.validated_data["q"])
        return Response({"q": params.validated_data["q"], "groups": SearchGroupSerializer(groups, many=True).data})
