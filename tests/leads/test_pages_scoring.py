import pytest
from django.urls import reverse

import leads.tasks  # noqa: F401  (registers the tasks run inline)
from leads.models import Lead, RescoreStatus, RuleKind, RuleSetVersion, ScoringPolicy, ScoringRule
from leads.rule_sets import rule_set_save, rule_set_snapshot
from tests.leads.factories import LeadFactory, ScoringRuleFactory
from tests.sent_tasks import record_sent_tasks, run_sent_tasks_inline

pytestmark = pytest.mark.django_db
URL = "/marketing/scoring/"


@pytest.fixture
def rules():
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": 20, "fit_minimum": 5})
    ScoringRuleFactory(name="Software", field="industry", operator="eq", value="software", points=15)
    ScoringRuleFactory(
        name="Webinars",
        kind=RuleKind.ENGAGEMENT,
        field="",
        operator="",
        value=None,
        points=0,
        event_kind="webinar",
        points_per_event=10,
        cap=30,
    )


def form_data(**overrides) -> dict:
    """The page's inputs for the rules in force, as the browser would post them."""
    snapshot = rule_set_snapshot()
    data = {
        "threshold": "20",
        "fit_minimum": "5",
        "default_half_life_days": "30",
        "rejection_penalty": "0",
        "learned_mode": "off",
        "learned_weight": "0",
        "note": "",
    }
    fit = [r for r in snapshot["rules"] if r["kind"] == "fit"]
    eng = [r for r in snapshot["rules"] if r["kind"] == "engagement"]
    data["fit-count"], data["eng-count"] = str(len(fit)), str(len(eng))
    for i, r in enumerate(fit):
        data.update(
            {
                f"fit-{i}-id": str(r["id"]),
                f"fit-{i}-name": r["name"],
                f"fit-{i}-field": r["field"],
                f"fit-{i}-operator": r["operator"],
                f"fit-{i}-value": str(r["value"]),
                f"fit-{i}-segment": "",
                f"fit-{i}-points": str(r["points"]),
            }
        )
    for i, r in enumerate(eng):
        data.update(
            {
                f"eng-{i}-id": str(r["id"]),
                f"eng-{i}-name": r["name"],
                f"eng-{i}-event_kind": r["event_kind"],
                f"eng-{i}-points_per_event": str(r["points_per_event"]),
                f"eng-{i}-cap": "" if r["cap"] is None else str(r["cap"]),
                f"eng-{i}-half_life_days": "",
            }
        )
    data.update(overrides)
    return data


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", [URL, "/marketing/scoring/progress/", "/marketing/scoring/versions/1/restore/"])
def test_anonymous_is_sent_to_log_in(client, rules, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["rep", "other_rep"])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", URL),
        ("post", URL),
        ("get", "/marketing/scoring/progress/"),
        ("post", "/marketing/scoring/versions/1/restore/"),
    ],
)
def test_a_rep_is_refused_everything(client_for, request, rules, who, method, url, monkeypatch):
    record_sent_tasks(monkeypatch)
    client = client_for(request.getfixturevalue(who))
    response = getattr(client, method)(url, form_data(action="save", threshold="1") if method == "post" else None)
    assert response.status_code == 403
    assert ScoringPolicy.current().threshold == 20 and not RuleSetVersion.objects.exists()


def test_a_manager_reads_the_rules_but_cannot_change_them(client_for, manager, rules, monkeypatch):
    record_sent_tasks(monkeypatch)
    client = client_for(manager)
    page = client.get(URL)
    assert page.status_code == 200
    assert b"Software" in page.content and b"Save as a new version" not in page.content

    assert client.post(URL, form_data(action="save", threshold="1")).status_code == 403
    assert ScoringPolicy.current().threshold == 20


def test_a_marketer_sees_every_rule_and_the_bar(client_for, marketer, rules):
    page = client_for(marketer).get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="threshold" type="text" inputmode="decimal" value="20"' in html
    assert 'value="Software"' in html and 'value="Webinars"' in html
    assert "Save as a new version" in html and "No versions yet" in html


def test_saving_writes_a_version_and_starts_the_rescore(
    client_for, marketer, rules, monkeypatch, django_capture_on_commit_callbacks
):
    sent = record_sent_tasks(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(marketer).post(
            URL, form_data(action="save", threshold="35", **{"fit-0-points": "25", "note": "Q3 bar"})
        )
    assert response.status_code == 302
    version = RuleSetVersion.objects.get(number=2)
    assert version.note == "Q3 bar" and version.created_by == marketer
    assert version.changes == ["Threshold: 20 -> 35", "Rule 'Software': points 15 -> 25"]
    assert ("leads.tasks.rule_set_rescore_task", (version.pk,)) in sent
    page = client_for(marketer).get(URL).content.decode()
    assert "Threshold: 20 -&gt; 35" in page and "Q3 bar" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"threshold": "lots"}, "Threshold: Enter a number."),
        ({"threshold": "-5"}, "Threshold: Ensure this value is greater than or equal to 0."),
        ({"fit_minimum": "99999999999"}, "Fit minimum: Enter a number between"),
        ({"default_half_life_days": "0"}, "Default half-life: Ensure this value is greater than 0."),
        ({"fit-0-points": "1e12"}, "Points: Enter a number between"),
        ({"fit-0-points": "2.5"}, "Points: Enter a whole number."),
        ({"fit-0-name": "bad\x00name"}, "Name: Null characters are not allowed."),
        ({"fit-0-name": ""}, "Name: This field is required."),
        ({"fit-0-field": "shoe_size"}, "Field: "),
        ({"fit-0-segment": "99999"}, "Segment: Choose an existing segment."),
        ({"eng-0-cap": "-1"}, "Cap: Ensure this value is greater than or equal to 0."),
        ({"eng-0-half_life_days": "0"}, "Half-life: Ensure this value is greater than 0."),
        ({"eng-0-event_kind": "telepathy"}, "Event kind: Choose an engagement kind."),
        ({"eng-0-points_per_event": "nan"}, "Points per event: Enter a finite number."),
        ({"note": "x" * 2001}, "Note: Ensure this value has at most 2000 characters"),
        ({"learned_mode": "magic"}, "Learned score: Choose one of"),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(client_for, marketer, rules, overrides, message):
    response = client_for(marketer).post(URL, form_data(action="save", **overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html, html[:200]
    assert "Nothing was saved" in html
    assert not RuleSetVersion.objects.exists() and ScoringPolicy.current().threshold == 20


@pytest.mark.parametrize("count", ["-1", "abc", "9" * 30, "\x00"])
def test_nonsense_row_counts_are_not_a_500(client_for, marketer, rules, count):
    response = client_for(marketer).post(URL, form_data(action="whatif", **{"fit-count": count, "eng-count": count}))
    assert response.status_code == 200


def test_the_what_if_shows_its_numbers_without_saving(client_for, marketer, rules):
    LeadFactory.create_batch(3, industry="software")
    LeadFactory.create_batch(2, industry="retail")
    from leads.scoring import leads_rescore_all

    leads_rescore_all(qualify=False)
    response = client_for(marketer).post(URL, form_data(action="whatif", threshold="10"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>3</strong> in a marketing stage would qualify with the change" in html
    assert "<strong>3</strong> newly cross the bar" in html
    assert 'aria-label="Histogram of lead scores' in html
    assert not RuleSetVersion.objects.exists() and ScoringPolicy.current().threshold == 20


def test_adding_and_removing_rows(client_for, marketer, rules, monkeypatch, django_capture_on_commit_callbacks):
    record_sent_tasks(monkeypatch)
    client = client_for(marketer)
    added = client.post(URL, form_data(action="add_fit")).content.decode()
    assert 'name="fit-1-name"' in added
    data = form_data(
        action="save",
        **{
            "fit-count": "2",
            "fit-1-id": "",
            "fit-1-name": "Germany",
            "fit-1-field": "country",
            "fit-1-operator": "eq",
            "fit-1-value": "DE",
            "fit-1-segment": "",
            "fit-1-points": "5",
            "eng-0-remove": "on",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(URL, data).status_code == 302
    assert set(ScoringRule.objects.filter(is_active=True).values_list("name", flat=True)) == {"Software", "Germany"}


def test_restore_from_the_page_and_the_progress_partial(
    client_for, marketer, rules, monkeypatch, django_capture_on_commit_callbacks
):
    LeadFactory.create_batch(3)
    run_sent_tasks_inline(monkeypatch)
    client = client_for(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, form_data(action="save", threshold="40"))
    v1 = RuleSetVersion.objects.get(number=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("leads:scoring-restore", args=[v1.pk]))
    assert response.status_code == 302
    v3 = RuleSetVersion.objects.get(number=3)
    assert v3.restored_from == v1 and ScoringPolicy.current().threshold == 20
    assert v3.rescore_status == RescoreStatus.DONE
    progress = client.get("/marketing/scoring/progress/").content.decode()
    assert "Version 3" in progress and "100% (3 of 3)" in progress and "hx-trigger" not in progress


def test_the_progress_partial_polls_while_the_rescore_runs(client_for, marketer, rules, monkeypatch):
    record_sent_tasks(monkeypatch)
    LeadFactory.create_batch(4)
    data = rule_set_snapshot()
    version = rule_set_save(rules=data["rules"], policy=data["policy"])
    RuleSetVersion.objects.filter(pk=version.pk).update(rescore_status="running", rescore_done=1, rescore_total=4)
    html = client_for(marketer).get("/marketing/scoring/progress/").content.decode()
    assert "25% (1 of 4)" in html and 'hx-trigger="every 1s"' in html


def test_restoring_a_missing_version_says_so(client_for, marketer, rules):
    response = client_for(marketer).post("/marketing/scoring/versions/99999/restore/", follow=True)
    assert "No such version." in response.content.decode()


def test_the_page_issues_the_same_queries_for_few_and_many_versions_and_rules(
    client_for, marketer, rules, monkeypatch, count_queries
):
    record_sent_tasks(monkeypatch)
    client = client_for(marketer)
    data = rule_set_snapshot()
    rule_set_save(rules=data["rules"], policy=data["policy"])
    few = count_queries(lambda: client.get(URL))
    for i in range(8):
        ScoringRuleFactory(name=f"Extra {i}", points=i)
        data = rule_set_snapshot()
        rule_set_save(rules=data["rules"], policy=data["policy"], note=f"n{i}")

    many = count_queries(lambda: client.get(URL))

    assert few == many
    assert Lead.objects.count() == 0
