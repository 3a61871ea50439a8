"""The header search: a results page (works without JavaScript) and the suggestion list the
header box fetches as you type (htmx)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .search import MAX_QUERY_LENGTH, search_for_user


def _query(request) -> tuple[str, str]:
    """The query and an error naming the field ("" when fine)."""
    query = request.GET.get("q", "").strip()
    if len(query) > MAX_QUERY_LENGTH:
        return query[:MAX_QUERY_LENGTH], f"Search (q): at most {MAX_QUERY_LENGTH} characters."
    return query, ""


@require_GET
@login_required
def search_page(request):
    query, error = _query(request)
    groups = [] if error else search_for_user(user=request.user, query=query, limit=20)
    context = {"query": query, "error": error, "groups": groups, "too_short": bool(query) and len(query) < 2}
    status = 400 if error else 200
    return render(request, "crm/search.html", context, status=status)


@require_GET
@login_required
def search_suggest(request):
    query, error = _query(request)
    groups = [] if error else search_for_user(user=request.user, query=query)
    found = any(group.results for group in groups)
    context = {"query": query, "error": error, "groups": groups, "found": found}
    return render(request, "crm/_search_suggest.html", context)
