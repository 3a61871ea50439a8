"""Every report page: access per role, defaults, bad filters, CSV and drill-down links."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils.html import escape

from reports.selectors import REPORTS

SLUGS = list(REPORTS)


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_a_manager_sees_each_report_with_its_filters(client_for, manager, slug):
    response = client_for(manager).get(reverse("admin:report", args=[slug]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="date_from"' in body and 'name="date_to"' in body
    assert escape(REPORTS[slug].empty_message) in body


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_marketing_sees_each_report(client_for, marketer, slug):
    assert client_for(marketer).get(reverse("admin:report", args=[slug])).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_a_rep_gets_403_on_each_report(client_for, rep, slug):
    assert client_for(rep).get(reverse("admin:report", args=[slug])).status_code == 403


@pytest.mark.django_db
def test_a_rep_gets_403_on_the_reports_index(client_for, rep):
    assert client_for(rep).get(reverse("admin:reports")).status_code == 403


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(reverse("admin:report", args=["handoff"]))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


@pytest.mark.django_db
def test_the_admin_index_links_every_report_for_a_manager(client_for, manager):
    body = client_for(manager).get(reverse("admin:index")).content.decode()
    for slug in SLUGS:
        assert reverse("admin:report", args=[slug]) in body


@pytest.mark.django_db
def test_the_reports_index_lists_every_report(client_for, manager):
    body = client_for(manager).get(reverse("admin:reports")).content.decode()
    for spec in REPORTS.values():
        assert spec.title in body


@pytest.mark.django_db
def test_an_unknown_report_is_404(client_for, manager):
    assert client_for(manager).get("/admin/reports/nope/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"date_from": "yesterday"}, "date_from", "Enter a valid date."),
        ({"date_from": "2026-03-01", "date_to": "2026-02-01"}, "date_from", "on or before the end date"),
        ({"date_from": "2010-01-01", "date_to": "2026-01-01"}, "date_from", "at most three years"),
        ({"queue": "999999"}, "queue", "Select a valid choice"),
        ({"rep": "abc"}, "rep", "Select a valid choice"),
        ({"source": "carrier_pigeon"}, "source", "Select a valid choice"),
    ],
)
def test_bad_filters_get_a_clear_message_not_a_500(client_for, manager, params, field, message):
    response = client_for(manager).get(reverse("admin:report", args=["handoff"]), params)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert f"{field}:" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("slug", "params", "message"),
    [
        ("campaigns", {"model": "u-shaped"}, "Select a valid choice"),
        ("objections", {"by": "weather"}, "Select a valid choice"),
        ("customer-experience", {"feedback_source": "rumour"}, "Select a valid choice"),
        ("collateral", {"kind": "scroll"}, "Select a valid choice"),
    ],
)
def test_report_specific_filters_are_validated(client_for, manager, slug, params, message):
    response = client_for(manager).get(reverse("admin:report", args=[slug]), params)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_csv_table_is_a_clear_400(client_for, manager):
    response = client_for(manager).get(reverse("admin:report", args=["handoff"]), {"export": "csv", "table": "x"})
    assert response.status_code == 400
    assert "Unknown table" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_each_report_exports_its_first_table_as_csv(client_for, manager, slug):
    response = client_for(manager).get(reverse("admin:report", args=[slug]), {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [c.label for c in _first_table_columns(client_for(manager), slug)]


def _first_table_columns(client, slug):
    from tests.reports.conftest import run

    return run(slug).tables[0].columns
