"""The campaigns API: `/api/campaigns/` (+ members, responses) and `/api/collateral/`
(+ versions, share, archive). Marketing writes; reps read the library and share with their
own leads; managers read all. Views parse input, find rows through the role's selector and
call one service; services enforce the same rules again."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from config.api.schema import request_example

from .. import selectors
from ..models import Campaign, Collateral, CustomerFeedback
from ..services import campaigns as campaign_services
from ..services import collateral as collateral_services
from ..services.feedback import feedback_record
from ..validators import request_too_large
from .campaigns_serializers import (
    CampaignMemberSerializer,
    CampaignSerializer,
    CampaignWriteSerializer,
    CollateralSerializer,
    CollateralShareSerializer,
    CollateralVersionSerializer,
    CollateralWriteSerializer,
    FeedbackSerializer,
    FeedbackWriteSerializer,
    InfluenceQuerySerializer,
    InfluenceSerializer,
    MemberAddedSerializer,
    MemberAddSerializer,
    MembersChangedSerializer,
    MemberStatusSerializer,
    ResponseSerializer,
    ShareRequestSerializer,
    VersionUploadSerializer,
)


class HasRole(BasePermission):
    """Anyone with one of the three roles; writes are checked by the services."""

    def has_permission(self, request, view):
        return selectors.has_role(request.user)


class CampaignsReader(BasePermission):
    def has_permission(self, request, view):
        return selectors.reads_all(request.user)


@extend_schema(tags=["campaigns"])
class CampaignViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Campaigns with member and response counts. Marketing and managers read; marketing
    creates and changes (PATCH)."""

    serializer_class = CampaignSerializer
    permission_classes = [IsAuthenticated, CampaignsReader]
    filterset_fields = ["kind", "status"]
    search_fields = ["name"]
    ordering_fields = ["name", "starts_on", "created_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Campaign.objects.none()
        return selectors.campaign_list_for_user(user=self.request.user)

    def _answer(self, campaign, code=status.HTTP_200_OK):
        return Response(CampaignSerializer(self.get_queryset().get(pk=campaign.pk)).data, status=code)

    @extend_schema(
        request=CampaignWriteSerializer,
        responses=CampaignSerializer,
        examples=[
            request_example(
                "A webinar for a segment",
                {
                    "name": "Spring webinar",
                    "kind": "webinar",
                    "status": "planned",
                    "starts_on": "2026-05-01",
                    "ends_on": "2026-05-31",
                    "budget": "5000.00",
                    "target_segment_id": 3,
                    "goal": "200 sign-ups",
                },
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        data = CampaignWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        campaign = campaign_services.campaign_create(
            actor=request.user, name=fields.pop("name"), kind=fields.pop("kind"), **fields
        )
        return self._answer(campaign, status.HTTP_201_CREATED)

    @extend_schema(
        request=CampaignWriteSerializer,
        responses=CampaignSerializer,
        examples=[request_example("Under way", {"status": "active", "actual_cost": "1200.00"})],
    )
    def partial_update(self, request, pk=None):
        campaign = self.get_object()
        data = CampaignWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        campaign_services.campaign_update(campaign_id=campaign.pk, actor=request.user, **data.validated_data)
        return self._answer(campaign)

    @extend_schema(methods=["GET"], responses=CampaignMemberSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=MemberAddSerializer,
        responses=MemberAddedSerializer,
        examples=[
            request_example("One lead", {"lead_id": 42}),
            request_example("Everyone in the target segment", {"from_target_segment": True}),
        ],
    )
    @action(detail=True, methods=["get", "post"])
    def members(self, request, pk=None):
        """GET: the members, newest first. POST: add one lead (``lead_id``) or a whole segment (``segment_id`` or
        ``from_target_segment``) in one statement; returns how many were added and how many skipped, per reason
        (already_member, erased, do_not_contact, no_email_opt_in, not_customer)."""
        campaign = self.get_object()
        if request.method == "GET":
            members = selectors.campaign_members_for_user(campaign=campaign, user=request.user).order_by(
                "-added_at", "-pk"
            )
            page = self.paginate_queryset(members)
            return self.get_paginated_response(
                CampaignMemberSerializer(page, many=True, context={"request": request}).data
            )
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values.get("lead_id"):
            campaign_services.campaign_member_add(
                campaign_id=campaign.pk, lead_id=values["lead_id"], actor=request.user
            )
            return Response({"added": 1, "skipped": 0, "skipped_by_reason": {}}, status=status.HTTP_201_CREATED)
        result = campaign_services.campaign_members_add_from_segment(
            campaign_id=campaign.pk, segment_id=values.get("segment_id"), actor=request.user
        )
        return Response(
            {"added": result.added, "skipped": result.skipped_total, "skipped_by_reason": result.skipped},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=MembersChangedSerializer)
    @action(detail=True, methods=["post"], url_path="members/sent")
    def members_sent(self, request, pk=None):
        """The campaign went out: every 'targeted' member becomes 'sent' (one UPDATE)."""
        campaign = self.get_object()
        changed = campaign_services.campaign_members_mark_sent(campaign_id=campaign.pk, actor=request.user)
        return Response({"changed": changed})

    @extend_schema(
        request=ResponseSerializer,
        responses=CampaignMemberSerializer,
        examples=[
            request_example(
                "A member signed up", {"lead_id": 42, "reference": "signup-881", "occurred_at": "2026-05-04T09:00:00Z"}
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def responses(self, request, pk=None):
        """A member responded: records the campaign type's engagement event on the lead."""
        campaign = self.get_object()
        data = ResponseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = campaign_services.campaign_response_record(
            campaign_id=campaign.pk,
            lead_id=data.validated_data["lead_id"],
            reference=data.validated_data.get("reference", ""),
            occurred_at=data.validated_data.get("occurred_at"),
            actor=request.user,
        )
        return Response(CampaignMemberSerializer(member).data)

    @extend_schema(parameters=[InfluenceQuerySerializer], responses=InfluenceSerializer)
    @action(detail=True, methods=["get"])
    def influence(self, request, pk=None):
        """The campaign's influence on the won and lost outcomes of its members, as sales
        reported them to marketing, under ``model`` (first, last, even). Revenue by campaign
        needs deal amounts: the managers' campaign report has it."""
        campaign = self.get_object()
        query = InfluenceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(selectors.campaign_outcome_influence(campaign=campaign, model=query.validated_data["model"]))

    @extend_schema(
        request=MemberStatusSerializer,
        responses=CampaignMemberSerializer,
        examples=[request_example("Sent", {"status": "sent"})],
    )
    @action(detail=True, methods=["post"], url_path=r"members/(?P<member_id>\d+)/status")
    def member_status(self, request, pk=None, member_id=None):
        campaign = self.get_object()
        data = MemberStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = get_object_or_404(campaign.members.all(), pk=member_id)
        member = campaign_services.campaign_member_status_set(
            member_id=member.pk, status=data.validated_data["status"], actor=request.user
        )
        return Response(CampaignMemberSerializer(member).data)


@extend_schema(tags=["collateral"])
class CollateralViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The collateral library with usage. Reps see the items they may share now; marketing and
    managers the whole library. Marketing creates (multipart with ``file``, or JSON with
    ``url``), changes tags (PATCH), uploads versions and archives."""

    serializer_class = CollateralSerializer
    permission_classes = [IsAuthenticated, HasRole]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filterset_fields = ["kind", "funnel_stage", "is_archived"]
    search_fields = ["title"]
    ordering_fields = ["title", "created_at", "updated_at"]
    ordering = ["title"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Collateral.objects.none()
        return selectors.collateral_list_for_user(user=self.request.user)

    def _answer(self, item, code=status.HTTP_200_OK):
        return Response(CollateralSerializer(self.get_queryset().get(pk=item.pk)).data, status=code)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "POST" and self.action in ("create", "versions"):
            too_large = request_too_large(request)
            if too_large is not None:
                raise too_large

    @extend_schema(
        request=CollateralWriteSerializer,
        responses=CollateralSerializer,
        examples=[
            request_example(
                "A case study on the web",
                {
                    "title": "How Analytical cut call times",
                    "kind": "case_study",
                    "url": "https://example.com/case-studies/analytical",
                    "industries": ["software"],
                    "products": ["calls"],
                    "funnel_stage": "consideration",
                    "objection_categories": ["price"],
                    "expires_on": "2027-01-31",
                },
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        data = CollateralWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        for required in ("title", "kind"):
            if required not in fields:
                raise ValidationError({required: ["This field is required."]})
        item = collateral_services.collateral_create(
            actor=request.user,
            title=fields.pop("title"),
            kind=fields.pop("kind"),
            file=fields.pop("file", None),
            url=fields.pop("url", ""),
            approved_segment_ids=fields.pop("approved_segment_ids", ()),
            **fields,
        )
        return self._answer(item, status.HTTP_201_CREATED)

    @extend_schema(
        request=CollateralWriteSerializer,
        responses=CollateralSerializer,
        examples=[request_example("A new title", {"title": "How Analytical halved call times"})],
    )
    def partial_update(self, request, pk=None):
        item = self.get_object()
        data = CollateralWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "file" in fields:
            raise ValidationError({"file": ["Upload a new file to /versions/; it becomes the current version."]})
        collateral_services.collateral_update(
            collateral_id=item.pk,
            actor=request.user,
            approved_segment_ids=fields.pop("approved_segment_ids", None),
            **fields,
        )
        return self._answer(item)

    @extend_schema(methods=["GET"], responses=CollateralVersionSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=VersionUploadSerializer,
        responses=CollateralVersionSerializer,
        examples=[request_example("A new PDF (multipart form data)", {"file": "case-study-v2.pdf"})],
    )
    @action(detail=True, methods=["get", "post"])
    def versions(self, request, pk=None):
        """GET: every version, newest first (marketing and managers; a rep only the current).
        POST (multipart ``file``): a new version, validated, made current."""
        item = self.get_object()
        if request.method == "GET":
            versions = selectors.collateral_versions(collateral=item)
            if not selectors.reads_all(request.user):
                versions = versions.filter(pk=item.current_version_id)
            page = self.paginate_queryset(versions)
            return self.get_paginated_response(CollateralVersionSerializer(page, many=True).data)
        data = VersionUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = collateral_services.collateral_version_add(
            collateral_id=item.pk, file=data.validated_data["file"], actor=request.user
        )
        return Response(CollateralVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ShareRequestSerializer,
        responses=CollateralShareSerializer,
        examples=[request_example("Share with a lead", {"lead_id": 42})],
    )
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        """Share the item with a lead (a rep: one of their own): returns the tracked link."""
        # Marketing sees archived and expired items too, so the service (not a 404) explains
        # why such an item cannot be shared; a rep never sees them at all.
        item = self.get_object()
        data = ShareRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        share = collateral_services.collateral_share(
            collateral_id=item.pk, lead_id=data.validated_data["lead_id"], actor=request.user
        )
        return Response(
            CollateralShareSerializer(share, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses=CollateralSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        item = self.get_object()
        collateral_services.collateral_archive(collateral_id=item.pk, actor=request.user, archived=True)
        return self._answer(item)

    @extend_schema(request=None, responses=CollateralSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        item = self.get_object()
        collateral_services.collateral_archive(collateral_id=item.pk, actor=request.user, archived=False)
        return self._answer(item)


@extend_schema(tags=["customer feedback"])
class FeedbackViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Customer feedback (0-10 and a comment). A rep reads and enters it for their own
    customers; managers and marketing read all (and may enter it)."""

    serializer_class = FeedbackSerializer
    permission_classes = [IsAuthenticated, HasRole]
    filterset_fields = ["source", "campaign", "lead"]
    ordering_fields = ["created_at", "rating"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CustomerFeedback.objects.none()
        return selectors.feedback_list_for_user(user=self.request.user)

    @extend_schema(
        request=FeedbackWriteSerializer,
        responses=FeedbackSerializer,
        examples=[request_example("After the kick-off call", {"lead_id": 42, "rating": 9, "comment": "Smooth start"})],
    )
    def create(self, request, *args, **kwargs):
        data = FeedbackWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = feedback_record(actor=request.user, **data.validated_data)
        return Response(
            FeedbackSerializer(self.get_queryset().get(pk=feedback.pk)).data, status=status.HTTP_201_CREATED
        )
