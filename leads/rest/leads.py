from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import request_example, response_example

from ..filters import LeadFilter
from ..imports import leads_bulk_create
from ..intake import REP_CONTACT_FIELDS, capture_submit, events_record, lead_create, lead_update, lead_upsert_by_email
from ..models import CaptureForm, Lead, Segment
from ..permissions import CanRecordEvents, LeadPermission, SegmentPermission
from ..segment_services import segment_create, segment_delete, segment_explain, segment_preview, segment_update
from ..selectors import lead_list_for_user
from ..throttles import CaptureFormThrottle, CaptureIPThrottle
from .examples import LEAD_EXAMPLE, SEGMENT_DEFINITION, SEGMENT_REQUEST_EXAMPLE
from .leads_serializers import (
    EngagementEventInSerializer,
    EventsRecordedSerializer,
    LeadBulkResultSerializer,
    LeadBulkSerializer,
    LeadSampleSerializer,
    LeadSerializer,
    LeadWriteSerializer,
    SegmentPreviewSerializer,
    SegmentSerializer,
    SegmentVersionSerializer,
    SegmentWriteSerializer,
)


@extend_schema(tags=["leads"])
@extend_schema_view(retrieve=extend_schema(examples=[response_example("A lead", LEAD_EXAMPLE)]))
class LeadViewSet(viewsets.ReadOnlyModelViewSet):
    """Leads. Marketing and managers see all; a rep sees the leads they own. Marketing creates
    (one, or up to 1,000 at once), upserts by email and changes leads; a rep changes only the
    contact fields of their own leads, a manager those of any lead. Every write is cleaned,
    deduplicated and scored exactly as capture forms and CSV imports are."""

    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    search_fields = ["email", "first_name", "last_name", "company"]
    ordering_fields = ["score", "created_at", "qualified_at"]
    permission_classes = [LeadPermission]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Lead.objects.none()
        return lead_list_for_user(user=self.request.user)

    @extend_schema(
        request=LeadWriteSerializer,
        responses={201: LeadSerializer},
        examples=[
            request_example(
                "A lead from the website",
                {
                    "email": "ada@analytical.example",
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "company": "Analytical Engines",
                    "title": "CTO",
                    "industry": "software",
                    "employees": 120,
                    "country": "GB",
                    "email_opt_in": True,
                    "custom_attributes": {"plan": "pro"},
                },
            ),
            response_example("The lead made", LEAD_EXAMPLE, "201"),
        ],
    )
    def create(self, request):
        """Create a lead; an email that exists is refused (use PUT /api/leads/by-email/<email>/)."""
        lead = lead_create(data=request.data, actor=request.user)
        return Response(LeadSerializer(lead).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=LeadWriteSerializer,
        responses=LeadSerializer,
        examples=[
            request_example("A new phone number and title", {"phone": "+44 20 7946 0000", "title": "CEO"}),
            request_example("The person opts out of e-mail marketing", {"email_opt_in": False}),
            response_example("The lead after the change", LEAD_EXAMPLE),
        ],
    )
    def partial_update(self, request, pk=None):
        lead = self.get_object()
        allowed = None if request.user.has_perm("leads.change_lead") else REP_CONTACT_FIELDS
        lead = lead_update(lead_id=lead.pk, data=request.data, allowed_fields=allowed, actor=request.user)
        return Response(LeadSerializer(lead_list_for_user(user=request.user).get(pk=lead.pk)).data)

    @extend_schema(
        request=LeadWriteSerializer,
        responses={200: LeadSerializer, 201: LeadSerializer},
        operation_id="leads_by_email_upsert",
        examples=[request_example("Fill in what the lead lacks", {"company": "Analytical Engines", "country": "GB"})],
    )
    @action(detail=False, methods=["put"], url_path=r"by-email/(?P<email>[^/]+)", url_name="by-email")
    def by_email(self, request, email: str):
        """Create the lead with this email, or update the one that has it (any case), as a
        capture form does: empty values leave a field alone, consent only tightens."""
        lead, created = lead_upsert_by_email(email=email, data=request.data, actor=request.user)
        return Response(LeadSerializer(lead).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=LeadBulkSerializer,
        responses={201: LeadBulkResultSerializer},
        examples=[
            request_example(
                "Two leads from a trade show",
                {
                    "leads": [
                        {"email": "grace@cobol.example", "first_name": "Grace", "company": "Cobol Ltd"},
                        {"email": "alan@enigma.example", "first_name": "Alan", "company": "Enigma plc"},
                    ]
                },
            ),
            response_example("Both were created", {"created": 2, "ids": [101, 102]}, "201"),
        ],
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Create up to LEADS_BULK_MAX (1,000) leads, all or nothing: any problem refuses the
        request with errors keyed ``leads.<index>.<field>``."""
        payload = request.data.get("leads") if isinstance(request.data, dict) else None
        ids = leads_bulk_create(leads=payload, max_leads=settings.LEADS_BULK_MAX, actor=request.user)
        return Response({"created": len(ids), "ids": ids}, status=status.HTTP_201_CREATED)


@extend_schema(tags=["segments"])
class SegmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Prospect definitions. Every role reads them; marketing creates, changes, previews and
    deletes them. Every saved change makes a new version with its member count."""

    serializer_class = SegmentSerializer
    queryset = Segment.objects.all()
    search_fields = ["name"]
    ordering_fields = ["name", "member_count", "updated_at"]
    permission_classes = [SegmentPermission]

    @extend_schema(
        request=SegmentWriteSerializer, responses={201: SegmentSerializer}, examples=[SEGMENT_REQUEST_EXAMPLE]
    )
    def create(self, request):
        data = SegmentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        segment = segment_create(actor=request.user, **data.validated_data)
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SegmentWriteSerializer, responses=SegmentSerializer, examples=[SEGMENT_REQUEST_EXAMPLE])
    def update(self, request, pk=None, partial=False):
        segment = self.get_object()
        data = SegmentWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        segment = segment_update(segment_id=segment.pk, actor=request.user, **data.validated_data)
        return Response(SegmentSerializer(segment).data)

    @extend_schema(
        request=SegmentWriteSerializer,
        responses=SegmentSerializer,
        examples=[request_example("A new description", {"description": "Software companies in Europe"})],
    )
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        segment_delete(segment_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=SegmentPreviewSerializer,
        responses={200: None},
        examples=[request_example("Who a definition would hold", {"definition": SEGMENT_DEFINITION, "sample": 5})],
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Count and a sample of the leads an unsaved definition selects."""
        data = SegmentPreviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = segment_preview(definition=data.validated_data["definition"], sample=data.validated_data.get("sample"))
        return Response({"count": result["count"], "sample": LeadSampleSerializer(result["sample"], many=True).data})

    @extend_schema(
        parameters=[OpenApiParameter("lead", int, required=True, description="The lead to explain.")],
        responses={200: None},
    )
    @action(detail=True, methods=["get"])
    def explain(self, request, pk=None):
        """Why a lead matches (or not): the rule tree with ``matched`` on every node."""
        segment = self.get_object()
        raw = request.query_params.get("lead", "")
        if not raw.isdigit() or len(raw) > 18:
            raise DRFValidationError({"lead": "Give the lead's id, e.g. ?lead=42."})
        lead = get_object_or_404(lead_list_for_user(user=request.user), pk=int(raw))
        return Response(segment_explain(segment=segment, lead_id=lead.pk))

    @extend_schema(responses=SegmentVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        """Every saved version, newest first, with who saved it and its member count."""
        segment = self.get_object()
        versions = segment.versions.select_related("created_by").order_by("-version")
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(SegmentVersionSerializer(page, many=True).data)


@extend_schema(
    tags=["events"],
    request=EngagementEventInSerializer(many=True),
    responses={201: EventsRecordedSerializer},
    examples=[
        # One event of the list (a list of them, or {"events": [...]}, is sent the same way).
        request_example("A webinar attended", {"lead": 42, "kind": "webinar", "source_reference": "webinar:2026-05"}),
        response_example(
            "Both recorded",
            {
                "events": [
                    {"id": 9001, "lead": 42, "created": True, "lead_created": False},
                    {"id": 9002, "lead": 43, "created": True, "lead_created": False},
                ]
            },
            "201",
        ),
    ],
)
class EngagementEventsApi(APIView):
    """Record engagement events: one object, a list, or ``{"events": [...]}``. All or nothing:
    any bad event refuses the batch with errors keyed ``events.<index>.<field>``."""

    permission_classes = [CanRecordEvents]

    def post(self, request):
        payload = request.data
        if isinstance(payload, dict) and "events" in payload:
            payload = payload["events"]
        items = payload if isinstance(payload, list) else [payload]
        if not all(isinstance(item, dict) for item in items):
            raise DRFValidationError({"events": "Each event must be a JSON object."})
        if len(items) > settings.EVENTS_MAX_BATCH:
            raise DRFValidationError({"events": f"At most {settings.EVENTS_MAX_BATCH} events per request."})
        data = EngagementEventInSerializer(data=items, many=True)
        if not data.is_valid():
            raise DRFValidationError({"events": data.errors})
        results = events_record(events=data.validated_data, max_batch=settings.EVENTS_MAX_BATCH)
        return Response({"events": results}, status=status.HTTP_201_CREATED)


@extend_schema(tags=["capture"], auth=[], request=None, responses={201: None, 302: None})
class CaptureApi(APIView):
    """Public web lead capture for the form with this key: creates or updates the lead (by
    email, any case) and records a form submission. Answers with a redirect to the form's
    redirect URL for a browser post, or JSON. Throttled per IP and per form."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [CaptureIPThrottle, CaptureFormThrottle]
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    def post(self, request, key: str):
        form = get_object_or_404(CaptureForm, key=key, is_active=True)
        if not isinstance(request.data, dict):
            raise DRFValidationError({"non_field_errors": "Send the form fields as an object."})
        lead, created = capture_submit(form=form, data=request.data)
        wants_json = "json" in request.headers.get("Accept", "") or request.content_type.startswith("application/json")
        if form.redirect_url and not wants_json:
            return HttpResponseRedirect(form.redirect_url)
        return Response({"ok": True, "created": created}, status=status.HTTP_201_CREATED)
