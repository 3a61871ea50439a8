"""Pages a lead opens without logging in: the tracked collateral link and the survey link.

Both answer an unknown, revoked or withdrawn token with the same plain 404, so a token cannot
be probed for existence, and neither leaks the token onwards (no Referer, no caching).
"""

from __future__ import annotations

from django.http import FileResponse, HttpResponseNotFound, HttpResponseRedirect
from django.views.decorators.http import require_safe

from .services.collateral import collateral_share_for_token, collateral_view_record


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
