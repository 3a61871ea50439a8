from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import OPEN_FOR_REP_STATUSES, Assignment


@login_required
def call_list(request):
    assignments = (
        Assignment.objects.filter(rep=request.user, status__in=OPEN_FOR_REP_STATUSES)
        .select_related("lead")
        .order_by("sla_due_at", "-lead__score")[:200]
    )
    return render(request, "crm/call_list.html", {"assignments": assignments})
