"""Reads of sales data. Row visibility is applied here: a rep's querysets only ever hold
their own rows; managers see all."""

from django.db.models import QuerySet

from config.roles import sees_all_sales_data

from .models import Assignment


def assignment_list_for_user(*, user) -> QuerySet[Assignment]:
    qs = Assignment.objects.select_related("lead", "queue", "rep")
    if sees_all_sales_data(user):
        return qs
    return qs.filter(rep=user)
