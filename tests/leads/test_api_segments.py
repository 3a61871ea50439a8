import pytest

from leads.models import Segment, SegmentVersion
from tests.leads.factories import LeadFactory, ScoringRuleFactory, SegmentFactory

pytestmark = pytest.mark.django_db

SOFTWARE = {"all": [{"field": "industry", "op": "eq", "value": "software"}]}
FINANCE = {"all": [{"field": "industry", "op": "eq", "value": "finance"}]}


def test_a_marketer_creates_a_segment_with_version_one_and_its_count(api_for, marketer):
    LeadFactory.create_batch(2, industry="software")
    LeadFactory(industry="retail")

    response = api_for(marketer).post("/api/segments/", {"name": "Software", "definition": SOFTWARE}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["version"], body["member_count"]) == (1, 2)
    version = SegmentVersion.objects.get(segment_id=body["id"])
    assert (version.version, version.member_count, version.created_by) == (1, 2, marketer)


def test_every_saved_change_makes_a_new_version_with_its_count(api_for, marketer):
    LeadFactory(industry="finance")
    api = api_for(marketer)
    segment_id = api.post("/api/segments/", {"name": "S", "definition": SOFTWARE}, format="json").json()["id"]

    response = api.patch(f"/api/segments/{segment_id}/", {"definition": FINANCE}, format="json")
    assert response.json()["version"] == 2
    unchanged = api.patch(f"/api/segments/{segment_id}/", {"definition": FINANCE}, format="json")
    assert unchanged.json()["version"] == 2

    versions = api.get(f"/api/segments/{segment_id}/versions/").json()["results"]
    assert [(v["version"], v["member_count"], v["created_by"]) for v in versions] == [
        (2, 1, "marketer"),
        (1, 0, "marketer"),
    ]


def test_an_invalid_definition_is_refused_naming_the_path_and_nothing_is_stored(api_for, marketer):
    definition = {"any": [{"field": "industry", "op": "eq", "value": "x"}, {"field": "shoe", "op": "eq", "value": 1}]}
    response = api_for(marketer).post("/api/segments/", {"name": "Bad", "definition": definition}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"] == {"definition.any.1.field": ["Unknown field 'shoe'."]}
    assert error["message"] == "definition.any.1.field: Unknown field 'shoe'."
    assert not Segment.objects.exists()


def test_malformed_json_is_a_clear_400(api_for, marketer):
    response = api_for(marketer).generic(
        "POST", "/api/segments/", '{"name": "x", "definition": {"all": [}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["error"]["message"]


def test_a_duplicate_name_and_a_second_icp_are_refused(api_for, marketer):
    SegmentFactory(name="Taken", is_icp=True)
    api = api_for(marketer)
    dup = api.post("/api/segments/", {"name": "taken", "definition": SOFTWARE}, format="json")
    icp = api.post("/api/segments/", {"name": "Other", "definition": SOFTWARE, "is_icp": True}, format="json")
    assert list(dup.json()["error"]["fields"]) == ["name"]
    assert list(icp.json()["error"]["fields"]) == ["is_icp"]


def test_a_segment_used_by_a_scoring_rule_cannot_be_deleted(api_for, marketer):
    segment = SegmentFactory()
    ScoringRuleFactory(segment=segment, field="")
    response = api_for(marketer).delete(f"/api/segments/{segment.pk}/")
    assert response.status_code == 400
    assert "still used by" in response.json()["error"]["fields"]["segment"][0]
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_a_marketer_deletes_an_unused_segment(api_for, marketer):
    segment = SegmentFactory()
    assert api_for(marketer).delete(f"/api/segments/{segment.pk}/").status_code == 204
    assert not Segment.objects.exists()


def test_preview_counts_and_samples_an_unsaved_definition(api_for, marketer):
    LeadFactory.create_batch(3, industry="software")
    LeadFactory(industry="retail")
    response = api_for(marketer).post("/api/segments/preview/", {"definition": SOFTWARE, "sample": 2}, format="json")
    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert len(response.json()["sample"]) == 2


def test_preview_of_a_bad_definition_names_the_problem(api_for, marketer):
    bad = {"all": [{"field": "employees", "op": "between", "value": [9, 1]}]}
    response = api_for(marketer).post("/api/segments/preview/", {"definition": bad}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["definition.all.0.value"]


def test_explain_says_why_a_lead_matches(api_for, marketer):
    lead = LeadFactory(industry="software")
    segment = SegmentFactory(definition=SOFTWARE)
    body = api_for(marketer).get(f"/api/segments/{segment.pk}/explain/?lead={lead.pk}").json()
    assert body["matched"] is True
    assert body["tree"]["children"][0]["text"] == "Industry equals software"


def test_explain_needs_a_lead_id(api_for, marketer):
    segment = SegmentFactory()
    response = api_for(marketer).get(f"/api/segments/{segment.pk}/explain/?lead=abc")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["lead"]


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_reps_and_managers_read_segments_but_cannot_change_or_preview_them(api_for, request, role):
    user = request.getfixturevalue(role)
    segment = SegmentFactory()
    api = api_for(user)
    assert api.get("/api/segments/").status_code == 200
    assert api.get(f"/api/segments/{segment.pk}/").status_code == 200
    assert api.get(f"/api/segments/{segment.pk}/versions/").status_code == 200
    assert api.post("/api/segments/", {"name": "x", "definition": SOFTWARE}, format="json").status_code == 403
    assert api.patch(f"/api/segments/{segment.pk}/", {"name": "y"}, format="json").status_code == 403
    assert api.delete(f"/api/segments/{segment.pk}/").status_code == 403
    assert api.post("/api/segments/preview/", {"definition": SOFTWARE}, format="json").status_code == 403


def test_a_rep_can_explain_only_their_own_leads(api_for, rep, other_rep):
    segment = SegmentFactory()
    own, others = LeadFactory(owner=rep), LeadFactory(owner=other_rep)
    api = api_for(rep)
    assert api.get(f"/api/segments/{segment.pk}/explain/?lead={own.pk}").status_code == 200
    assert api.get(f"/api/segments/{segment.pk}/explain/?lead={others.pk}").status_code == 404


def test_anonymous_users_are_refused(api_client):
    assert api_client.get("/api/segments/").status_code in (401, 403)


def test_the_segment_list_takes_a_constant_number_of_queries(api_for, marketer, django_assert_num_queries):
    api = api_for(marketer)
    SegmentFactory.create_batch(2)
    api.get("/api/segments/")  # warm the permission cache of the user
    with django_assert_num_queries(2):
        assert len(api.get("/api/segments/").json()["results"]) == 2
    SegmentFactory.create_batch(10)
    with django_assert_num_queries(2):
        assert len(api.get("/api/segments/").json()["results"]) == 12


def test_the_version_list_takes_a_constant_number_of_queries(api_for, marketer, django_assert_num_queries):
    api = api_for(marketer)
    segment_id = api.post("/api/segments/", {"name": "S", "definition": SOFTWARE}, format="json").json()["id"]
    api.get(f"/api/segments/{segment_id}/versions/")
    with django_assert_num_queries(3):
        api.get(f"/api/segments/{segment_id}/versions/")
    for i in range(5):
        api.patch(f"/api/segments/{segment_id}/", {"description": f"v{i}"}, format="json")
    with django_assert_num_queries(3):
        assert len(api.get(f"/api/segments/{segment_id}/versions/").json()["results"]) == 6
