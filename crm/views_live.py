"""The live poll, and the notification centre (the bell's list page, mark read, all read)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .live import live_marker, live_notices, live_user_id
from .models import Notification

NOTIFICATIONS_PAGE_SIZE = 30
MAX_ID = 2**63 - 1


@require_GET
def live_poll(request):
    """``?t=<token>&m=<marker>``: 204 while the marker is current, else the new marker, the
    unread count and the newest unread notifications (after ``?after=<id>``). No session or
    user query: the signed token names the user."""
    user_id = live_user_id(request.GET.get("t", ""))
    if user_id is None:
        return JsonResponse(
            {"error": {"status": 403, "code": "bad_token", "message": "t: invalid or expired"}}, status=403
        )
    after = request.GET.get("after", "0")
    if not after.isdigit() or int(after) > MAX_ID:
        return HttpResponseBadRequest("after: Enter a whole number (a notification id).")
    marker = live_marker(user_id)
    if marker == request.GET.get("m", ""):
        return HttpResponse(status=204)
    unread = int(marker.split("-")[0])
    notices = live_notices(user_id, after_id=int(after)) if unread else []
    return JsonResponse({"marker": marker, "unread": unread, "notices": notices})


@require_GET
@login_required
def notification_list(request):
    qs = Notification.objects.filter(user=request.user).order_by("-created_at", "-id")
    page = Paginator(qs, NOTIFICATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    unread = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
    return render(
        request, "crm/notification_list.html", {"page": page, "notifications": page.object_list, "unread": unread}
    )


@require_POST
@login_required
def notification_read(request, notification_id: int):
    notification = get_object_or_404(Notification, pk=notification_id, user=request.user)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk).update(read_at=timezone.now())
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("crm:notification-list")


@require_POST
@login_required
def notifications_read_all(request):
    count = Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("crm:notification-list")
