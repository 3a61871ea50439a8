"""Rate limit of API writes, per token (per user for a browser session): a client over the
rate gets 429 with Retry-After. Reads are not limited here. Rate:
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["write"] (env API_WRITE_THROTTLE_RATE).

The counts live in Django's cache: with one cache per process (the default) each process
counts alone; set CACHE_URL to a shared cache (Redis) to count across processes."""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle


class WriteRateThrottle(SimpleRateThrottle):
    scope = "write"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        auth = request.auth
        if auth is not None and getattr(auth, "pk", None) is not None:
            ident = getattr(auth, "throttle_ident", None) or f"{type(auth).__name__}:{auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None  # anonymous writes are refused by permissions; capture has its own throttles
        return self.cache_format % {"scope": self.scope, "ident": ident}
