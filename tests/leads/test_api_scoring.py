"""The scoring rule set through the API: versioned by the same services as the scoring page."""

import pytest

from leads.models import RuleSetVersion, ScoringPolicy, ScoringRule
from tests.leads.factories import ScoringRuleFactory
from tests.sent_tasks import record_sent_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule():
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": 20, "fit_minimum": 5})
    return ScoringRuleFactory(name="Software", field="industry", operator="eq", value="software", points=15)


def test_marketing_and_managers_read_the_rule_set(api_for, marketer, manager, rule):
    for user in (marketer, manager):
        body = api_for(user).get("/api/scoring/rule-set/").json()

        assert body["version"] is None
        assert [r["name"] for r in body["rules"]] == ["Software"]
        assert body["policy"]["threshold"] == 20


@pytest.mark.parametrize("role", ["rep", "other_rep"])
def test_reps_cannot_read_or_change_the_rules(api_for, request, role, rule):
    api = api_for(request.getfixturevalue(role))

    assert api.get("/api/scoring/rule-set/").status_code == 403
    assert api.get("/api/scoring/versions/").status_code == 403
    assert api.put("/api/scoring/rule-set/", {"rules": [], "policy": {}}, format="json").status_code == 403


def test_anonymous_gets_a_401(api_client):
    assert api_client.get("/api/scoring/rule-set/").status_code == 401


def test_marketing_saves_a_new_version_that_rescores_in_the_background(
    api_for, marketer, rule, monkeypatch, django_capture_on_commit_callbacks
):
    sent = record_sent_tasks(monkeypatch)
    api = api_for(marketer)
    current = api.get("/api/scoring/rule-set/").json()
    current["rules"][0]["points"] = 25
    current["policy"]["threshold"] = 30

    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(
            "/api/scoring/rule-set/",
            {"rules": current["rules"], "policy": current["policy"], "note": "tighter"},
            format="json",
        )

    assert response.status_code == 201, response.json()
    version = RuleSetVersion.objects.get(number=response.json()["number"])
    assert version.note == "tighter" and version.created_by == marketer
    assert ScoringRule.objects.get(pk=rule.pk).points == 25 and ScoringPolicy.current().threshold == 30
    assert any(name.startswith("leads.tasks.") and args == (version.pk,) for name, args in sent)
    assert api.get("/api/scoring/rule-set/").json()["version"] == version.number


def test_a_manager_cannot_change_the_rules(api_for, manager, rule):
    response = api_for(manager).put("/api/scoring/rule-set/", {"rules": [], "policy": {"threshold": 1}}, format="json")

    assert response.status_code == 403
    assert not RuleSetVersion.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["policy"].update(threshold=-1), "threshold"),
        (lambda d: d["policy"].update(threshold="1e400"), "threshold"),
        (lambda d: d["rules"][0].update(points="many"), "rules.0.points"),
    ],
)
def test_a_bad_rule_set_is_a_400_naming_the_field(api_for, marketer, rule, change, field):
    api = api_for(marketer)
    data = api.get("/api/scoring/rule-set/").json()
    change(data)

    response = api.put("/api/scoring/rule-set/", {"rules": data["rules"], "policy": data["policy"]}, format="json")

    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert not RuleSetVersion.objects.exists()


def test_versions_are_listed_newest_first_and_restored_as_a_new_version(api_for, marketer, manager, rule):
    api = api_for(marketer)
    data = api.get("/api/scoring/rule-set/").json()
    first = api.put("/api/scoring/rule-set/", {"rules": data["rules"], "policy": data["policy"]}, format="json").json()
    data["policy"]["threshold"] = 40
    api.put("/api/scoring/rule-set/", {"rules": data["rules"], "policy": data["policy"]}, format="json")

    listed = api_for(manager).get("/api/scoring/versions/").json()
    restored = api.post(f"/api/scoring/versions/{first['id']}/restore/", {"note": "back"}, format="json")
    refused = api_for(manager).post(f"/api/scoring/versions/{first['id']}/restore/", {}, format="json")

    assert [v["number"] for v in listed["results"]][:2] == [first["number"] + 1, first["number"]]
    assert restored.status_code == 201 and restored.json()["restored_from"] == first["number"]
    assert ScoringPolicy.current().threshold == 20
    assert refused.status_code == 403


def test_the_versions_list_query_count_does_not_grow(api_for, marketer, rule, count_queries):
    api = api_for(marketer)
    data = api.get("/api/scoring/rule-set/").json()
    api.put("/api/scoring/rule-set/", {"rules": data["rules"], "policy": data["policy"]}, format="json")
    few = count_queries(lambda: api.get("/api/scoring/versions/"))
    for threshold in (21, 22, 23):
        data["policy"]["threshold"] = threshold
        api.put("/api/scoring/rule-set/", {"rules": data["rules"], "policy": data["policy"]}, format="json")

    assert count_queries(lambda: api.get("/api/scoring/versions/")) == few
