"""The duplicates list (/marketing/duplicates/): pairs that look like one person, with the
reason; a marketer dismisses a pair that is two people. Marketing only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from config.roles import is_marketer

from .duplicates import duplicate_dismiss, duplicate_pairs_open

PAGE_SIZE = 50


def _require_marketer(user) -> None:
    if not is_marketer(user):
        raise PermissionDenied


@login_required
def duplicate_list(request):
    _require_marketer(request.user)
    page = Paginator(duplicate_pairs_open(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "leads/duplicate_list.html", {"page": page})


@login_required
@require_POST
def duplicate_dismiss_view(request, pk: int):
    _require_marketer(request.user)
    if duplicate_dismiss(pair_id=pk, actor=request.user):
        messages.success(request, "Dismissed: they stay two leads.")
    else:
        messages.error(request, "That pair is not open any more.")
    return redirect("leads:duplicate-list")
