"""Throttles of the public capture endpoint: per client IP, and per form key (so one noisy
form cannot starve the others and a botnet spread over many IPs still hits the form's limit).
Rates: REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["capture"] and ["capture_form"]."""

from rest_framework.throttling import SimpleRateThrottle


class CaptureIPThrottle(SimpleRateThrottle):
    scope = "capture"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class CaptureFormThrottle(SimpleRateThrottle):
    scope = "capture_form"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": str(view.kwargs.get("key", ""))[:64]}
