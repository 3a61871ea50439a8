"""Request hygiene that every view relies on."""

from django.http import HttpResponseBadRequest, JsonResponse


class RejectNulBytesMiddleware:
    """Refuse a NUL byte anywhere in the path or query string with a 400.

    PostgreSQL cannot store NUL in text, so such a value reaching a query would otherwise be a
    500. Checking once here covers every page, filter and path parameter.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        )
        if bad:
            message = "The request contains a NUL character (\\x00), which is not allowed."
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"error": {"status": 400, "code": "invalid", "message": message, "fields": {}}}, status=400
                )
            return HttpResponseBadRequest(message)
        return self.get_response(request)
