"""Pages of integrations: a user's personal API tokens; managers' webhooks and delivery log."""

from datetime import UTC, datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from config.roles import is_manager

from .forms import TokenCreateForm, WebhookForm
from .models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from .selectors import delivery_log, subscription_list
from .tokens import token_create, token_revoke, tokens_for_manager, tokens_for_user
from .webhooks import EVENTS, body_for, delivery_redeliver, subscription_create, subscription_set_active


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


# --- Webhooks (managers) -------------------------------------------------------------------


def manager_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_manager(request.user):
            raise PermissionDenied("Webhooks are managed by sales managers.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@manager_required
def webhook_list(request):
    """Subscriptions with their last-day figures, and the form to register one."""
    form = WebhookForm(request.POST or None, events=EVENTS)
    if request.method == "POST" and form.is_valid():
        try:
            sub = subscription_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Webhook “{sub.name}” registered; its secret is on its page.")
            return redirect("integrations:webhook-detail", sub.pk)
    return render(request, "integrations/webhook_list.html", {"form": form, "subscriptions": subscription_list()})


@manager_required
def webhook_detail(request, pk: int):
    """One subscription: secret, status, and its delivery log (newest first, 50 a page)."""
    sub = get_object_or_404(WebhookSubscription.objects.select_related("created_by"), pk=pk)
    status_filter = request.GET.get("status", "")
    if status_filter not in ("", *DeliveryStatus.values):
        status_filter = ""
    page = Paginator(delivery_log(subscription=sub, status=status_filter), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "integrations/webhook_detail.html",
        {"sub": sub, "page": page, "status_filter": status_filter, "statuses": DeliveryStatus.choices},
    )


@manager_required
def delivery_detail(request, pk: int):
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("subscription"), pk=pk)
    return render(
        request,
        "integrations/delivery_detail.html",
        {
            "delivery": delivery,
            "attempts": delivery.attempt_log.order_by("number"),
            "body": body_for(delivery).decode(),
        },
    )


@manager_required
@require_POST
def delivery_redeliver_view(request, pk: int):
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    delivery_redeliver(actor=request.user, delivery_id=delivery.pk)
    messages.success(request, f"Event {delivery.event_id} will be sent again now.")
    return redirect("integrations:delivery-detail", delivery.pk)


@manager_required
@require_POST
def webhook_toggle(request, pk: int):
    sub = get_object_or_404(WebhookSubscription, pk=pk)
    sub = subscription_set_active(actor=request.user, subscription_id=sub.pk, active=not sub.is_active)
    messages.success(request, f"Webhook “{sub.name}” {'enabled' if sub.is_active else 'disabled'}.")
    return redirect("integrations:webhook-detail", sub.pk)
