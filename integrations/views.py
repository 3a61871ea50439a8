"""Pages of integrations: a user's personal API tokens."""

from datetime import UTC, datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from config.roles import is_manager

from .forms import TokenCreateForm
from .tokens import token_create, token_revoke, tokens_for_manager, tokens_for_user


@login_required
def token_list(request):
    """The user's tokens; a new token's key is shown once, on the answer to its creation."""
    form = TokenCreateForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        expires_on = form.cleaned_data.get("expires_on")
        expires_at = datetime.combine(expires_on, time.min, tzinfo=UTC) if expires_on else None
        try:
            token, new_key = token_create(user=request.user, name=form.cleaned_data["name"], expires_at=expires_at)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error("expires_on" if field == "expires_at" else field, errors)
        else:
            form = TokenCreateForm()
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": tokens_for_user(user=request.user).select_related("revoked_by"),
        "others": tokens_for_manager().exclude(user=request.user) if is_manager(request.user) else None,
    }
    response = render(request, "integrations/tokens.html", context)
    response["Cache-Control"] = "no-store"  # the page may hold a key
    return response


@login_required
@require_POST
def token_revoke_view(request, token_id: int):
    try:
        token = token_revoke(token_id=token_id, actor=request.user)
    except PermissionDenied:
        raise Http404("No such token.") from None
    messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("integrations:tokens")
