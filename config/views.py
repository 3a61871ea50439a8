import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.defaults import page_not_found

from config.roles import is_manager, is_marketer, is_rep


@login_required
def home(request):
    """Send each person to where they work."""
    user = request.user
    if is_rep(user):
        return redirect("crm:call-list")
    if is_marketer(user) and not is_manager(user):
        return redirect("leads:segment-list")
    if user.is_staff:
        return redirect("admin:index")
    return redirect("crm:call-list")


def healthz(request):
    """Liveness of the web process and its database; with ``?deep=1`` also sends a no-op task
    through the broker and waits up to 3 s for a worker process to run it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    body = {"status": "ok"}
    if request.GET.get("deep") == "1":
        body["worker"] = "ok" if _worker_answers(timeout=3.0) else "unreachable"
        if body["worker"] != "ok":
            body["status"] = "degraded"
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)


def _worker_answers(*, timeout: float) -> bool:
    from config.celery import ping

    marker = f"health-{uuid.uuid4().hex}"
    path = Path(settings.VAR_DIR) / "pings" / marker
    try:
        ping.apply_async(args=[marker], queue="sales", expires=timeout)
    except Exception:  # noqa: BLE001 - a broker that is down is exactly what this reports
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            path.unlink(missing_ok=True)
            return True
        time.sleep(0.05)
    return False


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the static icon
    (resolved per request, so the manifest of hashed names is only read once it exists)."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("favicon.svg"))


# Machine clients of the API and the capture endpoint get the API's one error shape
# (config/api/errors.py) for a URL that matches no route, not the HTML page.
JSON_404_PREFIXES = ("/api/", "/capture/")


def not_found(request, exception=None):
    if request.path.startswith(JSON_404_PREFIXES):
        return JsonResponse(
            {"error": {"status": 404, "code": "not_found", "message": "Not found.", "fields": {}}}, status=404
        )
    return page_not_found(request, exception)
