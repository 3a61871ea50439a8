import pytest

from leads.forms import apply_action, tree_from_post
from leads.models import Segment
from tests.leads.factories import LeadFactory, SegmentFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def builder_post(**fields) -> dict:
    data = {"name": "Software DE", "description": "", "n-r-type": "all"}
    data.update(fields)
    return data


def condition(path: str, field: str, op: str, value: str) -> dict:
    return {f"n-{path}-type": "cond", f"n-{path}-field": field, f"n-{path}-op": op, f"n-{path}-value": value}


def test_the_form_inputs_rebuild_the_tree():
    data = {
        "n-r-type": "all",
        **condition("r.0", "industry", "in", "software, finance"),
        "n-r.1-type": "not",
        **condition("r.1.0", "employees", "between", "10, 200"),
        **condition("r.2", "attr.", "gt", "30"),
        "n-r.2-attr": "age",
        "n-r.3-type": "cond",
        "n-r.3-field": "engagement",
        "n-r.3-op": "at_least",
        "n-r.3-kind": "webinar",
        "n-r.3-count": "2",
        "n-r.3-days": "30",
    }
    assert tree_from_post(data) == {
        "all": [
            {"field": "industry", "op": "in", "value": ["software", "finance"]},
            {"not": {"field": "employees", "op": "between", "value": [10, 200]}},
            {"field": "attr.age", "op": "gt", "value": 30},
            {"field": "engagement", "op": "at_least", "value": {"kind": "webinar", "count": 2, "days": 30}},
        ]
    }


def test_actions_add_and_remove_nodes():
    tree = {"all": [{"field": "industry", "op": "eq", "value": "x"}]}
    tree = apply_action(tree, "add-group:r")
    tree = apply_action(tree, "add-cond:r.1")
    assert len(tree["all"][1]["all"]) == 2
    tree = apply_action(tree, "remove:r.0")
    assert list(tree["all"][0]) == ["all"]
    assert apply_action(tree, "remove:r.9.9") == tree  # a stale path changes nothing


def test_a_marketer_sees_a_live_count_and_sample_as_the_definition_changes(client_for, marketer):
    LeadFactory.create_batch(2, industry="software", company="Acme")
    LeadFactory(industry="retail")
    client = client_for(marketer)

    response = client.post(
        "/marketing/segments/builder/", builder_post(**condition("r.0", "industry", "eq", "software")), **HTMX
    )

    assert response.status_code == 200
    assert response.context["preview"]["count"] == 2
    assert b'id="live-count">2<' in response.content
    assert b"Acme" in response.content
    assert b"<html" not in response.content  # a partial for htmx


def test_adding_a_condition_re_renders_the_builder_with_one_more_row(client_for, marketer):
    data = builder_post(**condition("r.0", "industry", "eq", "software"), action="add-cond:r")
    response = client_for(marketer).post("/marketing/segments/builder/", data, **HTMX)
    assert len([r for r in response.context["rows"] if not r["group"]]) == 2
    assert b'name="n-r.1-field"' in response.content


def test_a_bad_value_shows_its_path_and_no_count(client_for, marketer):
    data = builder_post(**condition("r.0", "employees", "gte", "lots"))
    response = client_for(marketer).post("/marketing/segments/builder/", data, **HTMX)
    assert response.context["preview"] is None
    assert "definition.all.0.value" in response.context["errors"]
    assert b"Expected a whole number." in response.content


def test_saving_creates_the_segment_and_redirects_htmx_to_it(client_for, marketer):
    data = builder_post(**condition("r.0", "industry", "eq", "software"), action="save")
    response = client_for(marketer).post("/marketing/segments/builder/", data, **HTMX)
    segment = Segment.objects.get()
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/marketing/segments/{segment.pk}/"
    assert segment.definition == {"all": [{"field": "industry", "op": "eq", "value": "software"}]}
    assert segment.versions.count() == 1


def test_saving_an_existing_segment_makes_a_version_shown_in_the_history(client_for, marketer):
    client = client_for(marketer)
    client.post("/marketing/segments/builder/", builder_post(**condition("r.0", "industry", "eq", "a"), action="save"))
    segment = Segment.objects.get()
    data = builder_post(segment_id=segment.pk, **condition("r.0", "industry", "eq", "b"), action="save")
    response = client.post("/marketing/segments/builder/", data)
    assert response.status_code == 302
    page = client.get(f"/marketing/segments/{segment.pk}/")
    assert [v.version for v in page.context["versions"]] == [2, 1]
    assert b"Version history" in page.content


def test_saving_without_a_name_is_refused_without_javascript(client_for, marketer):
    data = builder_post(name="", **condition("r.0", "industry", "eq", "software"), action="save")
    response = client_for(marketer).post("/marketing/segments/builder/", data)
    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert not Segment.objects.exists()


def test_every_input_has_a_label(client_for, marketer):
    content = client_for(marketer).get("/marketing/segments/new/").content.decode()
    for name in ("n-r.0-field", "n-r.0-op", "n-r.0-value", "n-r-type", "id_name"):
        assert f'for="{name}"' in content


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_reps_and_managers_read_segments_but_do_not_get_the_builder(client_for, request, role):
    client = client_for(request.getfixturevalue(role))
    segment = SegmentFactory(name="Visible")
    assert b"Visible" in client.get("/marketing/segments/").content
    detail = client.get(f"/marketing/segments/{segment.pk}/")
    assert detail.status_code == 200
    assert b"segment-builder" not in detail.content
    assert b"Industry equals software" in detail.content
    assert client.get("/marketing/segments/new/").status_code == 403
    assert client.post("/marketing/segments/builder/", builder_post(action="save")).status_code == 403
    assert not Segment.objects.exclude(pk=segment.pk).exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/marketing/segments/").status_code == 302


def test_the_segment_list_page_takes_a_constant_number_of_queries(client_for, marketer):
    client = client_for(marketer)
    SegmentFactory.create_batch(2)
    client.get("/marketing/segments/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/marketing/segments/")
    SegmentFactory.create_batch(15)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/marketing/segments/")
    assert len(response.context["segments"]) == 17
    assert len(few) == len(many)
