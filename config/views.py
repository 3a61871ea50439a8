from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect

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
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
