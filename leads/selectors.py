"""Reads of marketing data, with row visibility applied."""

from django.db.models import QuerySet

from config.roles import is_manager, is_marketer

from .models import Lead


def lead_list_for_user(*, user) -> QuerySet[Lead]:
    """Marketing and managers see every lead; a rep sees the leads they own."""
    qs = Lead.objects.select_related("owner")
    if is_marketer(user) or is_manager(user):
        return qs
    return qs.filter(owner=user)
