"""A manager's sales pages: the team on ``/calls/``, one rep's call list read as the manager,
and a reassign from there (through ``assignment_reassign``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from config.roles import is_manager, is_rep

from .models import Assignment, AssignmentStatus
from .selectors import call_list_for_rep
from .services.handoff import assignment_reassign
from .team_selectors import rep_for_manager, sales_reps, team_overview, team_totals
from .views import CALL_LIST_PAGE_SIZE, call_list, sales_required

REASSIGNABLE = (AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED)


@require_GET
@sales_required
def calls_home(request):
    """``/calls/``: a rep's own list; for a manager (who has no list of their own) the team.
    The old ``?rep=<id>`` link opens that rep's list."""
    if not is_manager(request.user) or is_rep(request.user):
        return call_list(request)
    chosen = request.GET.get("rep", "")
    if chosen.isdigit() and len(chosen) < 19 and rep_for_manager(int(chosen)) is not None:
        return redirect("crm:rep-call-list", rep_id=int(chosen))
    rows = team_overview()
    return render(request, "crm/team.html", {"rows": rows, "totals": team_totals(rows), "now": timezone.now()})


def _manager_rep_or_404(request, rep_id):
    """Only a manager drills into a rep's list; to anyone else another rep's list does not
    exist (404, like another rep's lead)."""
    if not is_manager(request.user):
        raise Http404("No such call list.")
    rep = rep_for_manager(rep_id)
    if rep is None:
        raise Http404("No such rep.")
    return rep


def _rep_page(request, rep, *, error: str = "", status: int = 200):
    rows = call_list_for_rep(rep=rep, limit=CALL_LIST_PAGE_SIZE)
    url_pattern = reverse("crm:lead-detail", kwargs={"lead_id": 999999999}).replace("999999999", "{}")
    display = []
    for row in rows:
        item = row.display(url_pattern=url_pattern)
        item["assignment_id"] = row.assignment.pk if row.assignment is not None else None
        display.append(item)
    others = [r for r in sales_reps() if r.pk != rep.pk]
    context = {"rep": rep, "rows": display, "others": others, "error": error, "page_size": CALL_LIST_PAGE_SIZE}
    return render(request, "crm/team_rep.html", context, status=status)


@require_GET
@sales_required
def rep_call_list(request, rep_id: int):
    if not is_manager(request.user) and rep_id == request.user.pk:
        return redirect("crm:call-list")
    return _rep_page(request, _manager_rep_or_404(request, rep_id))


@require_POST
@sales_required
def rep_reassign(request, rep_id: int):
    rep = _manager_rep_or_404(request, rep_id)
    assignment_id, to_rep = request.POST.get("assignment", ""), request.POST.get("to_rep", "")
    if not assignment_id.isdigit() or int(assignment_id) > 2**63 - 1:
        return HttpResponseBadRequest("assignment: Enter an assignment id.")
    assignment = (
        Assignment.objects.filter(pk=int(assignment_id), rep=rep, status__in=REASSIGNABLE)
        .select_related("lead")
        .first()
    )
    if assignment is None:
        return _rep_page(request, rep, error="That lead is no longer in this rep's list.", status=400)
    if not to_rep:
        return _rep_page(request, rep, error="Choose the rep to give the lead to.", status=400)
    try:
        new = assignment_reassign(assignment_id=assignment.pk, rep_id=to_rep, actor=request.user)
    except ValidationError as error:
        return _rep_page(request, rep, error=" ".join(error.messages), status=400)
    messages.success(
        request, f"{assignment.lead.full_name or assignment.lead.email} reassigned to {new.rep.get_username()}."
    )
    return redirect("crm:rep-call-list", rep_id=rep.pk)
