"""Each report page runs a constant number of queries, whatever the amount of data, and every
drill-down link opens an admin changelist the admin accepts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports.selectors import REPORTS
from tests.reports.conftest import make_activity


@pytest.mark.django_db
@pytest.mark.parametrize("slug", list(REPORTS))
def test_a_report_page_runs_the_same_queries_for_more_data(
    client_for, manager, rep, other_rep, monday, period, slug, django_assert_num_queries
):
    client = client_for(manager)
    url = reverse("admin:report", args=[slug])
    make_activity(monday, 3, rep=rep, other_rep=other_rep, tag="a")
    client.get(url, period)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, period).status_code == 200
    make_activity(monday, 24, rep=rep, other_rep=other_rep, tag="b")
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url, period).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("slug", list(REPORTS))
def test_every_drill_down_link_opens_an_admin_changelist(client_for, manager, rep, other_rep, monday, period, slug):
    make_activity(monday, 8, rep=rep, other_rep=other_rep)
    spec = REPORTS[slug]
    form = spec.form_class(period)
    assert form.is_valid()
    result = spec.build(form.cleaned_data)
    client = client_for(manager)
    links = {url for table in result.tables for row_links in table.links for url in row_links.values()}
    assert links, "each report links at least one number to its records"
    for url in sorted(links):
        response = client.get(url)
        assert response.status_code == 200, url
