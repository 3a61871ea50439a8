"""Request hygiene that every view relies on."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import Resolver404, resolve


class RejectNulBytesMiddleware:
    """Refuse a NUL byte anywhere in the path or query string with a 400.

    PostgreSQL cannot store NUL in text, so such a value reaching a query would otherwise be a
    500. Checking once here covers every page, filter and path parameter.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = self._field_with_nul(request)
        if field is not None:
            message = "must not contain a NUL character (\\x00)."
            if request.path.startswith(("/api/", "/capture/")):
                return JsonResponse(
                    {
                        "error": {
                            "status": 400,
                            "code": "invalid",
                            "message": f"{field}: {message}",
                            "fields": {field: [message]},
                        }
                    },
                    status=400,
                )
            return HttpResponseBadRequest(f"{field}: {message}")
        return self.get_response(request)

    @staticmethod
    def _field_with_nul(request) -> str | None:
        """The name of the first path parameter or query parameter that holds a NUL byte
        (``path`` when no route matches the path)."""
        if "\x00" in request.path:
            try:
                kwargs = resolve(request.path_info).kwargs
            except Resolver404:
                return "path"
            return next((name for name, value in kwargs.items() if "\x00" in str(value)), "path")
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return key.replace("\x00", "") or "query"
        return None
