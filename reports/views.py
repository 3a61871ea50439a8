"""``/agreement/``: the marketing-sales agreement, the one page both sides read.

Managers and marketers set the targets and promises; reps read it (the agreement is the
promise their team made, and the page holds only team figures per queue, never one rep's
leads or calls); anonymous users log in first."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from config.roles import is_manager, is_marketer, is_rep

from .agreement_forms import AgreementForm, agreement_save
from .selectors.agreement import agreement_report


def _may_edit(user) -> bool:
    return is_manager(user) or is_marketer(user)


@login_required
def agreement_page(request):
    user = request.user
    if not (_may_edit(user) or is_rep(user)):
        raise PermissionDenied
    status = 200
    form = AgreementForm(initial={"month": f"{datetime.date.today():%Y-%m}"}) if _may_edit(user) else None
    if request.method == "POST":
        if not _may_edit(user):
            raise PermissionDenied
        form = AgreementForm(request.POST)
        if form.is_valid():
            agreement = agreement_save(**form.cleaned_data, actor=user)
            messages.success(request, f"Saved the agreement of {agreement.queue} for {agreement.month:%B %Y}.")
            return redirect("reports:agreement")
        status = 400
    queue_id = request.GET.get("queue")
    queue_id = int(queue_id) if queue_id and queue_id.isdigit() else None
    report = agreement_report(queue_id=queue_id)
    context = {"report": report, "form": form, "may_edit": form is not None, "queue_id": queue_id}
    return render(request, "reports/agreement.html", context, status=status)
