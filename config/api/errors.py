"""One error format for the whole API.

Every error is ``{"error": {"status", "code", "message", "fields"}}`` where ``fields`` maps a
field name (dotted for nested input) to a list of messages. Django's own ValidationError from
a service is turned into a 400 with the same shape, so services can validate once.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for sub_key, messages in _flatten(value, name).items():
                fields.setdefault(sub_key, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            fields[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                name = f"{prefix}.{index}" if prefix else str(index)
                for sub_key, messages in _flatten(item, name).items():
                    fields.setdefault(sub_key, []).extend(messages)
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def _django_validation_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_to_drf(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(response.data)
        first_field, first_messages = next(iter(fields.items()), ("", ["Invalid input."]))
        message = (
            f"{first_field}: {first_messages[0]}"
            if first_field and first_field != "non_field_errors"
            else first_messages[0]
        )
        body = {"status": response.status_code, "code": "invalid", "message": message, "fields": fields}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        body = {
            "status": response.status_code,
            "code": str(getattr(detail, "code", code)),
            "message": str(detail),
            "fields": {},
        }
    response.data = {"error": body}
    return response


def error_response(message: str, *, field: str = "", http_status: int = status.HTTP_400_BAD_REQUEST) -> Response:
    fields = {field: [message]} if field else {}
    return Response(
        {
            "error": {
                "status": http_status,
                "code": "invalid",
                "message": f"{field}: {message}" if field else message,
                "fields": fields,
            }
        },
        status=http_status,
    )
