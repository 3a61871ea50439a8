"""The deal pages: the rep's board, the manager's team board and forecast, moving and closing.

The board works three ways: dragging a card to another column or pressing ← / → on a focused
card (static/deals.js posts the move and re-fetches the board, ``?fragment=board``), and without
JavaScript each card's stage select and Move button. Closing opens a ``<dialog>`` holding the
close form (``?fragment=form``); without JavaScript the same form is its own page. A request
that asks for JSON (``Accept: application/json``) gets ``{"message"}`` or ``{"errors"}`` back
instead of a redirect.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.charts import svg_bars
from config.roles import is_manager, is_rep

from .deal_selectors import FORECAST_MONTHS, Forecast, deal_board, deal_forecast, month_add, team_filter_choices
from .forms import DealCloseForm, DealFilterForm, DealMoveForm, ForecastFilterForm, add_service_errors
from .models import OPEN_DEAL_STAGES, DealStage
from .selectors import deal_list_for_user
from .services.deals import deal_close, deal_move
from .views import sales_required

FORECAST_SERIES = (("committed", "Committed"), ("weighted", "Weighted"), ("best_case", "Best case"))


def manager_required(view):
    """Logged in as a sales manager; a rep or a marketer gets a 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_manager(request.user):
            raise PermissionDenied("The team board and the forecast are for sales managers.")
        return view(request, *args, **kwargs)

    return wrapped


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _safe_next(request, target: str) -> str:
    """``target`` if it is a page of this site, else ""."""
    ok = target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if ok else ""


def _back(request, default: str):
    """Where a no-JavaScript form returns to: its ``next`` if it is on this site, else ``default``."""
    return redirect(_safe_next(request, request.POST.get("next", "")) or default)


def _deal_or_404(request, deal_id):
    deal = deal_list_for_user(user=request.user).filter(pk=deal_id).first()
    if deal is None:
        raise Http404("No such deal.")
    return deal


def _board_context(request, board, **extra):
    return {
        "board": board,
        "columns": board.columns,
        "closed": board.closed,
        "move_form": DealMoveForm(),
        "next_url": _page_url(request),
        **extra,
    }


def _page_url(request) -> str:
    """This page's address without ``fragment``: where a form returns to, what deals.js re-fetches."""
    params = request.GET.copy()
    params.pop("fragment", None)
    return request.path + (f"?{params.urlencode()}" if params else "")


def _with_params(request, **changes) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        params[key] = value
    return f"?{params.urlencode()}"


def _render_board(request, template: str, context: dict, status: int = 200):
    if request.GET.get("fragment") == "board":
        template = "crm/_deal_board.html"
    return render(request, template, context, status=status)


# --- The rep's board ----------------------------------------------------------------------------


@require_GET
@sales_required
def deal_list(request):
    """A rep's own open deals. A manager who is not a rep works from the team board."""
    if not is_rep(request.user):
        return redirect("crm:deal-team")
    board = deal_board(user=request.user, rep_id=request.user.pk)
    return _render_board(request, "crm/deal_list.html", _board_context(request, board))


# --- The manager's team board and forecast ---------------------------------------------------


def _team_filters(request, form_class):
    reps, queues = team_filter_choices()
    form = form_class(request.GET or None, reps=reps, queues=queues)
    if request.GET and not form.is_valid():
        return form, None
    data = form.cleaned_data if request.GET else {}
    return form, data


@require_GET
@manager_required
def deal_team(request):
    """Every rep's open deals (filter by rep and queue), with the owner on each card."""
    form, data = _team_filters(request, DealFilterForm)
    if data is None:
        context = {"filter_form": form, "board": None, "columns": [], "closed": []}
        return render(request, "crm/deal_team.html", context, status=400)
    board = deal_board(user=request.user, rep_id=data.get("rep"), queue_id=data.get("queue"))
    context = _board_context(request, board, filter_form=form, show_owner=True)
    return _render_board(request, "crm/deal_team.html", context)


def _forecast_chart(forecast: Forecast) -> dict:
    keys = tuple(key for key, _label in FORECAST_SERIES)
    series = [
        {"label": b.label, **{key: float(getattr(b, key)) for key in keys}, "bucket": b}
        for b in forecast.buckets
        if b.month is not None or b.best_case
    ]
    labels = [b["bucket"].month.strftime("%b") if b["bucket"].month else b["bucket"].key for b in series]
    labels = [{"before": "Before", "later": "Later", "undated": "No date"}.get(label, label) for label in labels]
    return svg_bars(series, keys, labels)


@require_GET
@manager_required
def deal_forecast_page(request):
    """Committed, weighted and best case by expected close month, for 12 months from a month
    (this one unless chosen), in one currency, filterable by rep and queue."""
    form, data = _team_filters(request, ForecastFilterForm)
    if data is None:
        return render(request, "crm/deal_forecast.html", {"filter_form": form, "forecast": None}, status=400)
    start = data.get("start") or timezone.localdate().replace(day=1)
    forecast = deal_forecast(
        user=request.user,
        start=start.replace(day=1),
        rep_id=data.get("rep"),
        queue_id=data.get("queue"),
        currency=data.get("currency") or None,
    )
    context = {
        "filter_form": form,
        "forecast": forecast,
        "total": forecast.total,
        "chart": _forecast_chart(forecast),
        "series": FORECAST_SERIES,
        "open_odds": [(DealStage(stage).label, forecast.odds[stage]) for stage in OPEN_DEAL_STAGES],
        "commit_stages": [DealStage(stage).label for stage in OPEN_DEAL_STAGES if forecast.odds[stage].is_commit],
        "period": f"{forecast.start:%b %Y} to {month_add(forecast.start, FORECAST_MONTHS - 1):%b %Y}",
        "other_currencies": [
            (c, _with_params(request, currency=c)) for c in forecast.currencies if c != forecast.currency
        ],
        "earlier_url": _with_params(request, start=f"{month_add(forecast.start, -1):%Y-%m}"),
        "later_url": _with_params(request, start=f"{month_add(forecast.start, 1):%Y-%m}"),
    }
    return render(request, "crm/deal_forecast.html", context)


# --- Moving and closing -------------------------------------------------------------------------


def _errors(form) -> dict:
    return {field or "__all__": [str(e) for e in errors] for field, errors in form.errors.items()}


@require_POST
@sales_required
def deal_move_view(request, deal_id):
    deal = _deal_or_404(request, deal_id)
    form = DealMoveForm(request.POST)
    if form.is_valid():
        try:
            deal_move(deal_id=deal.pk, stage=form.cleaned_data["stage"], actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            message = f"“{deal.name}” moved to {DealStage(form.cleaned_data['stage']).label}."
            if _wants_json(request):
                return JsonResponse({"message": message, "deal": deal.pk, "stage": form.cleaned_data["stage"]})
            messages.success(request, message)
            return _back(request, reverse("crm:deal-list"))
    if _wants_json(request):
        errors = _errors(form)
        text = " ".join(m for ms in errors.values() for m in ms)
        return JsonResponse({"errors": errors, "message": f"“{deal.name}” was not moved: {text}"}, status=400)
    messages.error(request, f"“{deal.name}” was not moved: " + " ".join(m for ms in _errors(form).values() for m in ms))
    return _back(request, reverse("crm:deal-list"))


@require_http_methods(["GET", "POST"])
@sales_required
def deal_close_view(request, deal_id):
    """GET: the close form (a page, or with ``?fragment=form`` the dialog's body). POST: close
    won or lost; a missing or wrong reason comes back as field errors in the same form."""
    deal = _deal_or_404(request, deal_id)
    fragment = request.GET.get("fragment") == "form"
    template = "crm/_deal_close_form.html" if fragment else "crm/deal_close.html"
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if request.method == "GET":
        return render(request, template, {"deal": deal, "close_form": DealCloseForm(), "next_url": next_url})
    form = DealCloseForm(request.POST)
    if deal.is_closed:
        form.add_error(None, f"The deal is already closed ({deal.get_stage_display().lower()}).")
    elif form.is_valid():
        won = form.cleaned_data["result"] == "won"
        try:
            deal_close(
                deal_id=deal.pk,
                won=won,
                lost_reason=form.cleaned_data["lost_reason"],
                lost_note=form.cleaned_data["lost_note"],
                actor=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error, {"stage": None})
        else:
            message = f"“{deal.name}” closed {'won' if won else 'lost'}."
            if _wants_json(request) or fragment:
                return JsonResponse({"message": message, "deal": deal.pk})
            messages.success(request, message)
            return _back(request, reverse("crm:deal-list"))
    if _wants_json(request) and not fragment:
        return JsonResponse({"errors": _errors(form)}, status=400)
    return render(request, template, {"deal": deal, "close_form": form, "next_url": next_url}, status=400)
