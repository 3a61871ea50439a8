import datetime

import pytest
from django.utils import timezone

from crm.reports import REPORTS


@pytest.fixture
def monday():
    """10:00 on the Monday two weeks ago: inside the default 12-week range."""
    today = timezone.localdate()
    day = today - datetime.timedelta(days=today.weekday() + 14)
    return datetime.datetime.combine(day, datetime.time(9, 0), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def period(monday):
    """Filters covering the week before `monday` to the end of the week after it."""
    return {
        "date_from": (monday.date() - datetime.timedelta(days=7)).isoformat(),
        "date_to": (monday.date() + datetime.timedelta(days=13)).isoformat(),
    }


def run(slug: str, **params):
    """Build one report the way the page does (validated filters) and return the result."""
    spec = REPORTS[slug]
    form = spec.form_class(params)
    assert form.is_valid(), form.errors
    return spec.build(form.cleaned_data)


def rows_by(table, key):
    return {row[key]: row for row in table.rows}
