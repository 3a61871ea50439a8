"""Pages a lead opens without logging in: the tracked collateral link and the survey link.

Both answer an unknown, revoked or withdrawn token with the same plain 404, so a token cannot
be probed for existence, and neither leaks the token onwards (no Referer, no caching).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponseNotFound, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from .forms import SurveyForm, add_service_errors
from .services.collateral import collateral_share_for_token, collateral_view_record
from .services.feedback import feedback_from_survey, survey_already_answered, survey_member_for_token


def not_found():
    return HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8")


def _private(response):
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_safe
def collateral_link(request, token: str):
    """``/c/<token>/``: record the view (and an engagement event on the lead), then serve the
    current version's file or redirect to the item's URL. HEAD requests (link previews)
    are answered but not counted."""
    share = collateral_share_for_token(token)
    if share is None:
        return not_found()
    item = share.collateral
    if item.url:
        response = HttpResponseRedirect(item.url)
    else:
        version = item.current_version
        try:
            handle = version.file.open("rb")
        except (FileNotFoundError, OSError, ValueError):
            return not_found()
        response = FileResponse(handle, content_type=version.content_type, filename=version.original_name)
    if request.method == "GET":
        collateral_view_record(share=share, user_agent=request.headers.get("User-Agent", ""))
    return _private(response)


@require_http_methods(["GET", "HEAD", "POST"])
def survey(request, token: str):
    """``/s/<token>/``: a customer rates us 0-10 and may comment; one answer per invitation."""
    member = survey_member_for_token(token)
    if member is None:
        return not_found()
    if survey_already_answered(member):
        return _private(render(request, "campaigns/survey_thanks.html", {"already": True}))
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            feedback_from_survey(token=token, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _private(render(request, "campaigns/survey_thanks.html", {"already": False}))
    return _private(render(request, "campaigns/survey.html", {"form": form, "campaign": member.campaign}))
