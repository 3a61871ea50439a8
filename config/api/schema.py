"""The OpenAPI schema documents the error answers too (config/api/errors.py's one shape), so a
client and schemathesis' status-code and response-schema checks know every status an
operation can give: 400 (input refused, fields named), 401, 403, 404 (a row not visible, an
unknown page), and on writes 415 (a body in a media type the operation does not parse) and 429 (the per-token rate limit, with Retry-After)."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name (dotted for nested input, e.g. leads.3.email) -> messages.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


ERROR_DESCRIPTIONS = {
    "400": "The input was refused; `error.fields` names each field.",
    "401": "No valid credentials (a personal token: `Authorization: Bearer <key>`).",
    "403": "The user's role may not do this.",
    "404": "Not found, or not visible to this user.",
    "415": "The request body is not JSON (or form data where a form is accepted).",
    "429": "Too many writes with this token; retry after `Retry-After` seconds.",
}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class BatonAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        public = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        codes = ["400"]
        if not public:
            codes += ["401", "403"]
        codes.append("404")
        if self.method in WRITE_METHODS:
            codes += ["415", "429"]
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), code, direction=direction
                )
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "429":
            headers = dict(headers or {})
            headers.setdefault("Retry-After", {"schema": {"type": "integer"}, "description": "Seconds to wait."})
        return headers


def request_example(summary: str, value) -> OpenApiExample:
    """A request body example for ``extend_schema(examples=...)``; the schema tests check that
    it validates against the operation's request schema."""
    return OpenApiExample(summary, value=value, request_only=True)


def response_example(summary: str, value, status: str = "200") -> OpenApiExample:
    return OpenApiExample(summary, value=value, response_only=True, status_codes=[status])
