import pytest
from rest_framework.authtoken.models import Token

from tests.crm.factories import AssignmentFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_the_api_needs_authentication_and_says_so_in_the_common_error_format(api_client):
    response = api_client.get("/api/leads/")

    assert response.status_code in (401, 403)
    error = response.json()["error"]
    assert error["status"] == response.status_code and error["message"]


def test_token_authentication_works(api_client, marketer):
    token = Token.objects.create(user=marketer)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert api_client.get("/api/leads/").status_code == 200


def test_lists_are_paginated(api_for, marketer):
    LeadFactory.create_batch(3)

    body = api_for(marketer).get("/api/leads/?page_size=2").json()

    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


def test_a_bad_filter_value_is_a_400_naming_the_field(api_for, marketer):
    response = api_for(marketer).get("/api/leads/?stage=promoted")

    assert response.status_code == 400
    assert "stage" in response.json()["error"]["fields"]


def test_a_nul_byte_or_huge_number_in_a_query_parameter_is_a_clean_400(api_for, marketer):
    api = api_for(marketer)

    assert api.get("/api/leads/?industry=soft%00ware").status_code == 400
    assert api.get("/api/leads/?min_score=1e400").status_code == 400


def test_a_rep_sees_only_their_own_leads_and_assignments(api_for, rep, other_rep):
    mine = AssignmentFactory(rep=rep, lead=LeadFactory(owner=rep))
    AssignmentFactory(rep=other_rep, lead=LeadFactory(owner=other_rep))

    leads = api_for(rep).get("/api/leads/").json()["results"]
    assignments = api_for(rep).get("/api/assignments/").json()["results"]

    assert [lead["id"] for lead in leads] == [mine.lead_id]
    assert [a["id"] for a in assignments] == [mine.id]


def test_another_reps_lead_is_a_404(api_for, rep, other_rep):
    theirs = LeadFactory(owner=other_rep)

    response = api_for(rep).get(f"/api/leads/{theirs.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_lead_list_query_count_does_not_grow_with_rows(api_for, make_user, count_queries):
    def api():
        return api_for(make_user("Marketing", username="m2"))  # a fresh user object: no cached roles

    LeadFactory.create_batch(2)
    client = api()
    few = count_queries(lambda: client.get("/api/leads/"))
    LeadFactory.create_batch(20)
    client = api()

    assert count_queries(lambda: client.get("/api/leads/")) == few


def test_openapi_schema_and_docs_are_served_offline(client, marketer):
    client.force_login(marketer)

    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200 and b"/api/leads/" in schema.content
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
    assert b"drf_spectacular_sidecar" in docs.content or b"/static/" in docs.content


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/leads/?search=a%00b", "search"),
        ("/api/leads/?ordering=%00", "ordering"),
        ("/api/assignments/?x%00=1", "x"),
        ("/api/leads/by-email/a%00b@example.com/", "email"),
        ("/api/reports/hand%00off/", "name"),
    ],
)
def test_a_nul_byte_anywhere_in_the_query_or_path_is_a_400_naming_the_field(api_for, marketer, url, field):
    response = api_for(marketer).get(url)

    assert response.status_code == 400
    error = response.json()["error"]
    assert "NUL" in error["message"]
    assert list(error["fields"]) == [field]


def test_options_on_the_upsert_by_email_route_describes_it(api_for, marketer):
    """DRF's metadata looked the object up by ``pk`` for every PUT route: a 500 on this one."""
    response = api_for(marketer).options("/api/leads/by-email/someone@example.com/")

    assert response.status_code == 200
    assert "PUT" in response.json()["actions"]


def test_an_api_url_that_matches_no_route_is_a_json_404(api_for, marketer):
    response = api_for(marketer).get("/api/leads/not-a-number/x/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_a_nul_byte_in_a_page_url_is_a_400(client, marketer):
    client.force_login(marketer)

    assert client.get("/marketing/segments/?q=%00").status_code == 400


def test_an_id_beyond_the_database_integer_range_is_a_404_not_a_500(api_for, marketer):
    assert api_for(marketer).get("/api/leads/99999999999999999999999/").status_code == 404
