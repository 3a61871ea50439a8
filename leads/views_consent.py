"""Consent pages: the public signed unsubscribe link and the withdrawal by a rep or marketer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from config.roles import is_manager, is_marketer, is_rep
from config.text_limits import too_long_message

from .consent import ALL_PURPOSES, consent_withdraw, consents_record, unsubscribe_token_read
from .models import ConsentPurpose, ConsentSource, Lead
from .selectors import lead_list_for_user

MAX_ID = 2**63 - 1


@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """``/unsubscribe/<token>/``: GET asks (mail scanners follow links, so a GET changes
    nothing), POST withdraws the purposes the token names. Shows no personal data."""
    try:
        lead_id, purposes = unsubscribe_token_read(token)
    except signing.BadSignature:
        return render(request, "leads/unsubscribe.html", {"invalid": True}, status=400)
    if not Lead.objects.filter(pk=lead_id).exists():
        return render(request, "leads/unsubscribe.html", {"invalid": True}, status=404)
    labels = [ConsentPurpose(p).label for p in purposes]
    if request.method == "POST":
        consent_withdraw(
            lead_id=lead_id, purposes=purposes, source=ConsentSource.UNSUBSCRIBE, evidence="Signed unsubscribe link"
        )
        return render(request, "leads/unsubscribe.html", {"done": True, "labels": labels})
    return render(request, "leads/unsubscribe.html", {"labels": labels})


# The withdrawal note is evidence; the API takes as much (``ConsentWithdrawSerializer``).
NOTE_LIMIT = 2000


@require_POST
@login_required
def lead_consent_withdraw(request, lead_id: int):
    """A rep (their own leads), a marketer or a manager records a withdrawal the person asked
    for (by phone, e-mail, ...): ``purpose`` (one, or ``all``) and an optional ``note`` as
    evidence. Back to ``next`` (a local URL) afterwards."""
    if not (is_rep(request.user) or is_marketer(request.user) or is_manager(request.user)):
        raise PermissionDenied("Only sales and marketing record consent.")
    if lead_id > MAX_ID:
        raise Http404
    lead = lead_list_for_user(user=request.user).filter(pk=lead_id).first()
    if lead is None:
        raise Http404("No such lead.")
    purpose = request.POST.get("purpose", "")
    if purpose not in (*ALL_PURPOSES, "all"):
        return HttpResponseBadRequest(f"purpose: '{purpose[:30]}' is not one of {', '.join(ALL_PURPOSES)} or all.")
    note = request.POST.get("note", "").replace("\x00", "").strip()
    if len(note) > NOTE_LIMIT:
        # Refused, not cut short: the evidence is kept as written or not at all.
        messages.error(request, f"Note: {too_long_message(NOTE_LIMIT, len(note))} Nothing was recorded.")
        return _back(request)
    source = (
        ConsentSource.MARKETER if is_marketer(request.user) and lead.owner_id != request.user.pk else ConsentSource.REP
    )
    purposes = list(ALL_PURPOSES) if purpose == "all" else [purpose]
    consent_withdraw(lead_id=lead.pk, purposes=purposes, source=source, actor=request.user, evidence=note)
    labels = ", ".join(ConsentPurpose(p).label.lower() for p in purposes)
    messages.success(request, f"Consent withdrawn: {labels}.")
    return _back(request)


@require_POST
@login_required
def lead_consent_grant(request, lead_id: int):
    """A marketer records that the person gave consent to one ``purpose`` (source marketer);
    ``note`` says how (the evidence) and is required: a grant without proof is no consent.
    Reps and managers only withdraw. Back to ``next`` (a local URL) afterwards."""
    if not is_marketer(request.user):
        raise PermissionDenied("Only marketing records a grant of consent.")
    if lead_id > MAX_ID:
        raise Http404
    lead = lead_list_for_user(user=request.user).filter(pk=lead_id).first()
    if lead is None:
        raise Http404("No such lead.")
    purpose = request.POST.get("purpose", "")
    if purpose not in ALL_PURPOSES:
        return HttpResponseBadRequest(f"purpose: '{purpose[:30]}' is not one of {', '.join(ALL_PURPOSES)}.")
    note = request.POST.get("note", "").replace("\x00", "").strip()[:2000]
    label = ConsentPurpose(purpose).label.lower()
    if lead.erased_at is not None:
        messages.error(request, "Purpose: this person was erased; consent cannot be recorded any more.")
        return _back(request)
    if not note:
        messages.error(request, f"Evidence: say how the person gave consent to {label} (a form, an e-mail, a call).")
        return _back(request)
    consents_record(
        lead_id=lead.pk, changes=[(purpose, True)], source=ConsentSource.MARKETER, actor=request.user, evidence=note
    )
    messages.success(request, f"Consent granted: {label}.")
    return _back(request)


def _back(request):
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)
