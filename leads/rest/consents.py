"""Consent records of one lead: ``GET``/``POST /api/leads/<id>/consents/``."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import request_example
from config.roles import is_manager, is_marketer

from ..consent import consents_record
from ..models import ConsentRecord, ConsentSource
from ..selectors import lead_list_for_user
from .consents_serializers import ConsentInSerializer, ConsentRecordSerializer, LeadConsentsSerializer


@extend_schema(tags=["leads"])
class LeadConsentsApi(APIView):
    """A lead's consent records, newest first, and the flags derived from them. A rep sees and
    records consent only for their own leads; marketing and managers for every lead. A POST
    records a grant or a withdrawal (source ``api``); it takes effect at once on call lists,
    hand-offs, campaign sends and scoring."""

    permission_classes = [IsAuthenticated]

    def _lead(self, request, lead_id):
        return get_object_or_404(lead_list_for_user(user=request.user), pk=lead_id)

    @extend_schema(responses=LeadConsentsSerializer)
    def get(self, request, lead_id: int):
        lead = self._lead(request, lead_id)
        records = ConsentRecord.objects.filter(lead=lead).select_related("actor")
        return Response(
            {
                "lead": lead.pk,
                "flags": {
                    name: getattr(lead, name)
                    for name in ("email_opt_in", "do_not_call", "do_not_contact", "do_not_profile")
                },
                "records": ConsentRecordSerializer(records, many=True).data,
            }
        )

    @extend_schema(
        request=ConsentInSerializer,
        responses={201: ConsentRecordSerializer},
        examples=[
            request_example(
                "The person asks not to be called",
                {"purpose": "calls", "granted": False, "evidence": "Said so on the phone, 4 May"},
            )
        ],
    )
    def post(self, request, lead_id: int):
        lead = self._lead(request, lead_id)
        if not (is_marketer(request.user) or is_manager(request.user) or lead.owner_id == request.user.pk):
            raise PermissionDenied
        data = ConsentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        (record,) = consents_record(
            lead_id=lead.pk,
            changes=[(data.validated_data["purpose"], data.validated_data["granted"])],
            source=ConsentSource.API,
            evidence=data.validated_data.get("evidence", ""),
            actor=request.user,
        )
        return Response(ConsentRecordSerializer(record).data, status=status.HTTP_201_CREATED)
