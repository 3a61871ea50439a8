"""The sales API: the call list, calls, objections, deals (+ move / close), accounts, contacts.

A rep sees and changes only their own rows (another rep's row is a 404); managers see all;
marketing reads objections and deal outcomes in aggregate (the ``summary`` actions) and gets a
403 everywhere else. Writes go through the services, which validate and name the field.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import request_example, response_example
from config.roles import is_manager, is_marketer, is_rep

from ..selectors import (
    account_list_for_user,
    call_history_for_user,
    call_list_for_rep,
    contact_list_for_user,
    deal_list_for_user,
    deal_summary,
    objection_list_for_user,
    objection_summary,
)
from ..services.accounts import account_create, account_update, contact_create, contact_update
from ..services.calls import call_log
from ..services.deals import deal_close, deal_convert, deal_move, deal_update
from .sales_serializers import (
    AccountSerializer,
    AccountWriteSerializer,
    CallCreateSerializer,
    CallListRowSerializer,
    CallListSerializer,
    CallSerializer,
    ContactSerializer,
    ContactWriteSerializer,
    DealCloseSerializer,
    DealConvertSerializer,
    DealMoveSerializer,
    DealSerializer,
    DealSummarySerializer,
    DealUpdateSerializer,
    ObjectionNoteSerializer,
    ObjectionSummarySerializer,
)

MAX_CALL_LIST = 200
# Deeper rows are read by reading every row above them: the page stops at 5,000 too.
MAX_CALL_LIST_OFFSET = 4_800

ACCOUNT_EXAMPLE = request_example(
    "A new account",
    {
        "name": "Analytical Engines",
        "domain": "analytical.example",
        "industry": "software",
        "employees": 120,
        "country": "GB",
    },
)
CONTACT_EXAMPLE = request_example(
    "A contact at an account",
    {"account": 5, "first_name": "Ada", "last_name": "Lovelace", "email": "ada@analytical.example", "title": "CTO"},
)


class IsSalesUser(permissions.BasePermission):
    message = "The sales workspace is for sales reps and managers."

    def has_permission(self, request, view):
        return bool(
            request.user and request.user.is_authenticated and (is_rep(request.user) or is_manager(request.user))
        )


class ReadsOutcomes(permissions.BasePermission):
    """Aggregates: sales and marketing alike."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (is_rep(user) or is_manager(user) or is_marketer(user)))


class SalesViewSetMixin:
    permission_classes = [IsSalesUser]
    summary_actions: tuple[str, ...] = ("summary",)

    def get_permissions(self):
        if getattr(self, "action", None) in self.summary_actions:
            return [ReadsOutcomes()]
        return [permission() for permission in self.permission_classes]


@extend_schema(
    tags=["sales"],
    parameters=[
        OpenApiParameter("limit", int, description=f"Rows to return, 1-{MAX_CALL_LIST} (default 50)."),
        OpenApiParameter(
            "offset", int, description=f"Rows of the ranked list to skip, 0-{MAX_CALL_LIST_OFFSET} (default 0)."
        ),
        OpenApiParameter("rep", int, description="Managers only: whose list."),
    ],
    responses=CallListSerializer,
    examples=[
        response_example(
            "The first row of a rep's list",
            {
                "results": [
                    {
                        "lead": 42,
                        "name": "Ada Lovelace",
                        "email": "ada@analytical.example",
                        "phone": "+44 20 7946 0000",
                        "company": "Analytical Engines",
                        "score": 72.5,
                        "stage": "handed_off",
                        "assignment": 318,
                        "bucket": 0,
                        "bucket_label": "SLA overdue",
                        "outside_calling_hours": False,
                        "local_time": "10:15",
                        "reasons": [{"label": "Industry is software", "points": 40.0}],
                        "source_campaign": "Spring webinar",
                        "sla_due_at": "2026-05-04T10:00:00Z",
                        "sla_seconds_left": -900,
                        "next_follow_up_at": None,
                        "check_in_on": None,
                        "last_touch_at": None,
                        "attempts": 0,
                    }
                ]
            },
        )
    ],
)
class CallListApi(APIView):
    """The rep's next calls, best first (the same ranking as the /calls/ page)."""

    permission_classes = [IsSalesUser]

    def get(self, request):
        limit = request.query_params.get("limit", "50")
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_CALL_LIST:
            raise ValidationError({"limit": [f"Enter a whole number from 1 to {MAX_CALL_LIST}."]})
        offset = request.query_params.get("offset", "0")
        if not offset.isdigit() or int(offset) > MAX_CALL_LIST_OFFSET:
            raise ValidationError({"offset": [f"Enter a whole number from 0 to {MAX_CALL_LIST_OFFSET}."]})
        rep = request.user
        if "rep" in request.query_params:
            if not is_manager(request.user):
                raise ValidationError({"rep": ["Only managers can read another rep's call list."]})
            rep_id = request.query_params["rep"]
            rep = get_user_model().objects.filter(pk=int(rep_id) if rep_id.isdigit() else 0).first()
            if rep is None:
                raise ValidationError({"rep": ["User not found."]})
        rows = call_list_for_rep(rep=rep, limit=int(limit), offset=int(offset))
        return Response({"results": CallListRowSerializer(rows, many=True).data})


@extend_schema(tags=["sales"])
class CallViewSet(SalesViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Calls. POST logs one (with objections and the next step) in one transaction."""

    serializer_class = CallSerializer
    filterset_fields = ["lead", "contact", "outcome"]
    ordering_fields = ["called_at"]

    def get_queryset(self):
        return call_history_for_user(user=self.request.user)

    @extend_schema(
        request=CallCreateSerializer,
        responses={201: CallSerializer},
        examples=[
            request_example(
                "A connected call with an objection and a callback",
                {
                    "lead": 42,
                    "outcome": "connected",
                    "duration_seconds": 300,
                    "notes": "Interested, budget next quarter",
                    "objections": [
                        {
                            "category": "timing",
                            "said": "Not before July",
                            "response": "Sent the plan",
                            "overcome": False,
                        }
                    ],
                },
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        data = _valid(CallCreateSerializer, request.data)
        with _api_field_names():
            call = call_log(
                rep=request.user,
                lead_id=data["lead"],
                contact_id=data["contact"],
                outcome=data["outcome"],
                duration_seconds=data["duration_seconds"],
                notes=data["notes"],
                called_at=data["called_at"],
                next_step_at=data["next_step_at"],
                objections=[dict(o) for o in data["objections"]],
            )
        call = self.get_queryset().get(pk=call.pk)
        return Response(CallSerializer(call).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["sales"])
class ObjectionViewSet(SalesViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Objection notes. ``summary`` (counts by category, how often overcome) is open to marketing."""

    serializer_class = ObjectionNoteSerializer
    filterset_fields = ["category", "overcome", "lead"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return objection_list_for_user(user=self.request.user)

    @extend_schema(responses=ObjectionSummarySerializer(many=True))
    @action(detail=False, pagination_class=None)
    def summary(self, request):
        return Response(ObjectionSummarySerializer(objection_summary(user=request.user), many=True).data)


@extend_schema(tags=["sales"])
class DealViewSet(SalesViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Deals. POST converts a lead (account + contact + deal); PATCH changes name, amount,
    currency or expected close; ``move`` and ``close`` change the stage. ``summary`` is the
    outcomes in aggregate (open to marketing)."""

    serializer_class = DealSerializer
    filterset_fields = ["stage", "lead", "account"]
    ordering_fields = ["created_at", "amount", "closed_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return deal_list_for_user(user=self.request.user)

    def _out(self, deal, code=status.HTTP_200_OK):
        return Response(DealSerializer(self.get_queryset().get(pk=deal.pk)).data, status=code)

    @extend_schema(
        request=DealConvertSerializer,
        responses={201: DealSerializer},
        examples=[
            request_example(
                "Convert a lead",
                {"lead": 42, "amount": "12000.00", "name": "Analytical – 50 seats", "expected_close_on": "2026-07-31"},
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        data = _valid(DealConvertSerializer, request.data)
        with _api_field_names():
            deal = deal_convert(
                lead_id=data["lead"],
                actor=request.user,
                amount=data["amount"],
                name=data["name"],
                currency=data["currency"],
                expected_close_on=data["expected_close_on"],
            )
        return self._out(deal, status.HTTP_201_CREATED)

    @extend_schema(
        request=DealUpdateSerializer,
        responses=DealSerializer,
        examples=[request_example("A bigger deal", {"amount": "15000.00", "expected_close_on": "2026-08-15"})],
    )
    def partial_update(self, request, *args, **kwargs):
        deal = self.get_object()
        data = _valid(DealUpdateSerializer, request.data, partial=True)
        deal = deal_update(deal_id=deal.pk, actor=request.user, **data)
        return self._out(deal)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        request=DealMoveSerializer,
        responses=DealSerializer,
        examples=[request_example("To proposal", {"stage": "proposal"})],
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        deal = self.get_object()
        data = _valid(DealMoveSerializer, request.data)
        return self._out(deal_move(deal_id=deal.pk, stage=data["stage"], actor=request.user))

    @extend_schema(
        request=DealCloseSerializer,
        responses=DealSerializer,
        examples=[
            request_example("Won", {"won": True}),
            request_example(
                "Lost on price", {"won": False, "lost_reason": "price", "lost_note": "Went with a cheaper tool"}
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        deal = self.get_object()
        data = _valid(DealCloseSerializer, request.data)
        deal = deal_close(
            deal_id=deal.pk,
            won=data["won"],
            lost_reason=data["lost_reason"],
            lost_note=data["lost_note"],
            actor=request.user,
        )
        return self._out(deal)

    @extend_schema(responses=DealSummarySerializer(many=True))
    @action(detail=False, pagination_class=None)
    def summary(self, request):
        return Response(DealSummarySerializer(deal_summary(user=request.user), many=True).data)


def _renamed(data: dict, names: dict[str, str]) -> dict:
    return {names.get(key, key): value for key, value in data.items()}


@extend_schema(tags=["sales"])
class AccountViewSet(SalesViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Accounts. A rep sees those they own or have a deal with, creates accounts (theirs) and
    changes those they own; a manager sees, creates and changes all, and sets the owner."""

    serializer_class = AccountSerializer
    filterset_fields = ["is_customer", "domain"]
    search_fields = ["name", "domain"]

    def get_queryset(self):
        return account_list_for_user(user=self.request.user)

    @extend_schema(request=AccountWriteSerializer, responses={201: AccountSerializer}, examples=[ACCOUNT_EXAMPLE])
    def create(self, request):
        values = _renamed(_valid(AccountWriteSerializer, request.data), {"owner": "owner_id"})
        account = account_create(actor=request.user, **values)
        return Response(AccountSerializer(self.get_queryset().get(pk=account.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=AccountWriteSerializer,
        responses=AccountSerializer,
        examples=[request_example("Now a customer", {"is_customer": True, "next_check_in_on": "2026-08-01"})],
    )
    def partial_update(self, request, pk=None):
        account = self.get_object()
        values = _renamed(_valid(AccountWriteSerializer, request.data, partial=True), {"owner": "owner_id"})
        with _api_field_names():
            account_update(actor=request.user, account_id=account.pk, **values)
        return Response(AccountSerializer(self.get_queryset().get(pk=account.pk)).data)


@extend_schema(tags=["sales"])
class ContactViewSet(SalesViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Contacts of the accounts the caller sees; added to and changed on those accounts."""

    serializer_class = ContactSerializer
    filterset_fields = ["account", "lead"]
    search_fields = ["first_name", "last_name", "email"]

    def get_queryset(self):
        return contact_list_for_user(user=self.request.user)

    @extend_schema(request=ContactWriteSerializer, responses={201: ContactSerializer}, examples=[CONTACT_EXAMPLE])
    def create(self, request):
        values = _renamed(_valid(ContactWriteSerializer, request.data), {"account": "account_id", "lead": "lead_id"})
        contact = contact_create(actor=request.user, **values)
        return Response(ContactSerializer(self.get_queryset().get(pk=contact.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ContactWriteSerializer,
        responses=ContactSerializer,
        examples=[request_example("A new title", {"title": "Head of Data"})],
    )
    def partial_update(self, request, pk=None):
        contact = self.get_object()
        values = _renamed(
            _valid(ContactWriteSerializer, request.data, partial=True), {"account": "account_id", "lead": "lead_id"}
        )
        contact_update(actor=request.user, contact_id=contact.pk, **values)
        return Response(ContactSerializer(self.get_queryset().get(pk=contact.pk)).data)


def _valid(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@contextmanager
def _api_field_names():
    """Services name their arguments (``lead_id``); the API's fields are ``lead``, ``contact``."""
    try:
        yield
    except DjangoValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        renamed = {API_FIELD_NAMES.get(key, key): messages for key, messages in error.message_dict.items()}
        raise DjangoValidationError(renamed) from error


API_FIELD_NAMES = {"lead_id": "lead", "contact_id": "contact", "deal_id": "deal"}
