"""The CSV is exactly the table on the page (formula prefixes neutralised); the API returns the
same figures with the API's error format and permissions."""

import csv
import io
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from reports.selectors import REPORTS
from reports.selectors.export import neutralise
from tests.reports.conftest import make_activity, run


class TableParser(HTMLParser):
    """Rows of cell texts of each <table data-table=...> on a page."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self.current = self.tables.setdefault(attrs["data-table"], [])
        elif tag == "tr" and self.current is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.current.append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


@pytest.mark.django_db
@pytest.mark.parametrize("slug", list(REPORTS))
def test_the_csv_of_each_table_equals_the_table_on_the_page(client_for, manager, rep, other_rep, monday, period, slug):
    make_activity(monday, 6, rep=rep, other_rep=other_rep)
    client = client_for(manager)
    url = reverse("admin:report", args=[slug])
    parser = TableParser()
    parser.feed(client.get(url, period).content.decode())
    assert parser.tables
    for key, html_rows in parser.tables.items():
        response = client.get(url, {**period, "export": "csv", "table": key})
        csv_rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert csv_rows == [[neutralise(cell) for cell in row] for row in html_rows], key


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=HYPERLINK(evil)", "'=HYPERLINK(evil)"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12.5", "-12.5"),
        ("-20.0%", "-20.0%"),
        ("1,200.00", "1,200.00"),
        ("Price", "Price"),
    ],
)
def test_formula_prefixes_are_neutralised_but_plain_numbers_are_not(cell, safe):
    assert neutralise(cell) == safe


@pytest.mark.django_db
def test_a_formula_in_a_note_is_neutralised_in_the_csv(client_for, manager, rep, monday, period):
    from tests.crm.factories import CallFactory, ObjectionNoteFactory

    ObjectionNoteFactory(call=CallFactory(rep=rep, called_at=monday), said="=HYPERLINK(evil)", created_at=monday)
    response = client_for(manager).get(
        reverse("admin:report", args=["objections"]), {**period, "export": "csv", "table": "recent"}
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][3] == "'=HYPERLINK(evil)"


@pytest.mark.django_db
def test_the_api_returns_the_report_tables(api_for, manager, rep, other_rep, monday, period):
    make_activity(monday, 4, rep=rep, other_rep=other_rep)
    response = api_for(manager).get("/api/reports/handoff/", period)
    assert response.status_code == 200
    body = response.json()
    assert body["report"] == "handoff"
    assert body["filters"]["date_from"] == period["date_from"]
    weekly = next(t for t in body["tables"] if t["key"] == "weekly")
    expected = run("handoff", **period).table("weekly")
    assert [r["handed_off"] for r in weekly["rows"]] == [r["handed_off"] for r in expected.rows]
    assert weekly["rows"][0]["week"] == expected.rows[0]["week"].isoformat()


@pytest.mark.django_db
@pytest.mark.parametrize("slug", list(REPORTS))
def test_marketing_reads_every_report_through_the_api(api_for, marketer, slug):
    assert api_for(marketer).get(f"/api/reports/{slug}/").status_code == 200


@pytest.mark.django_db
def test_a_rep_gets_403_from_the_reports_api(api_for, rep):
    response = api_for(rep).get("/api/reports/handoff/")
    assert response.status_code == 403
    assert response.json()["error"]["status"] == 403


@pytest.mark.django_db
def test_an_anonymous_client_is_refused_by_the_reports_api(api_client):
    assert api_client.get("/api/reports/handoff/").status_code in (401, 403)


@pytest.mark.django_db
def test_bad_api_filters_get_a_400_naming_the_field(api_for, manager):
    response = api_for(manager).get("/api/reports/campaigns/", {"model": "u-shaped", "date_to": "soon"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error["fields"]) == {"model", "date_to"}


@pytest.mark.django_db
def test_an_unknown_report_is_a_404_in_the_api(api_for, manager):
    assert api_for(manager).get("/api/reports/nope/").status_code == 404
