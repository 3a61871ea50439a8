import pytest

from leads.models import RuleSetVersion, ScoringRule
from tests.sent_tasks import task_sends

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Software",
    "kind": "fit",
    "field": "industry",
    "operator": "eq",
    "value": '"software"',
    "points": "10",
    "points_per_event": "0",
    "is_active": "on",
    "position": "0",
}


def test_a_marketer_adds_a_rule_in_the_admin_and_every_lead_is_rescored_after_commit(
    client_for, marketer, django_capture_on_commit_callbacks
):
    with (
        task_sends("leads.tasks.rule_set_rescore_task") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_for(marketer).post("/admin/leads/scoringrule/add/", RULE)
    assert response.status_code == 302, response.content[:2000]
    rule = ScoringRule.objects.get()
    assert rule.value == "software"
    version = RuleSetVersion.objects.order_by("-number").first()
    assert [r["id"] for r in version.rules] == [rule.pk]
    assert response.url.endswith("/admin/leads/scoringrule/")
    delay.assert_called_once_with(version.pk)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"field": "shoe_size"}, "field"),
        ({"operator": "gt"}, "operator"),
        ({"value": '"x"', "field": "employees"}, "value"),
    ],
)
def test_a_rule_scoring_cannot_use_is_refused_naming_the_field(client_for, marketer, changes, field):
    response = client_for(marketer).post("/admin/leads/scoringrule/add/", {**RULE, **changes})
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not ScoringRule.objects.exists()


def test_reps_cannot_change_scoring(client_for, rep, manager):
    assert client_for(rep).post("/admin/leads/scoringrule/add/", RULE).status_code == 302  # to the login page
    response = client_for(manager).post("/admin/leads/scoringrule/add/", RULE)
    assert response.status_code == 403
    assert not ScoringRule.objects.exists()


def test_a_marketer_manages_capture_forms_and_reads_imports_in_the_admin(client_for, marketer):
    client = client_for(marketer)
    response = client.post("/admin/leads/captureform/add/", {"key": "demo", "name": "Demo", "is_active": "on"})
    assert response.status_code == 302
    assert client.get("/admin/leads/leadimport/").status_code == 200
    assert client.get("/admin/leads/leadimport/add/").status_code == 403
