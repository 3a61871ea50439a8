import datetime

import pytest
from django.core.exceptions import ValidationError

import leads.tasks  # noqa: F401  (registers the tasks run inline)
from leads.models import Lead, RescoreStatus, RuleKind, RuleSetVersion, ScoringPolicy, ScoringRule
from leads.rule_sets import rule_set_rescore, rule_set_restore, rule_set_save, rule_set_snapshot, rule_set_versions
from leads.scoring import leads_rescore_all
from tests.leads.factories import EngagementEventFactory, LeadFactory, ScoringRuleFactory, SegmentFactory
from tests.sent_tasks import record_sent_tasks, run_sent_tasks_inline

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def rules():
    """Two fit rules and one engagement rule, threshold 20, fit minimum 5."""
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": 20, "fit_minimum": 5})
    software = ScoringRuleFactory(name="Software", field="industry", operator="eq", value="software", points=15)
    big = ScoringRuleFactory(name="Big", field="employees", operator="gte", value=1000, points=10, position=1)
    webinar = ScoringRuleFactory(
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
    return software, big, webinar


@pytest.fixture(autouse=True)
def commits(django_capture_on_commit_callbacks, monkeypatch):
    """Each service call below runs its on-commit callbacks (the task sends) when it returns,
    as a commit would."""
    import tests.leads.test_rule_sets as here

    def committing(fn):
        def call(**kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return fn(**kwargs)

        return call

    for name in ("rule_set_save", "rule_set_restore", "rule_set_rescore"):
        monkeypatch.setattr(here, name, committing(getattr(here, name)))


def named(data: dict, name: str) -> dict:
    return next(r for r in data["rules"] if r["name"] == name)


def test_saving_writes_a_version_with_who_what_changed_and_the_note(rules, marketer, monkeypatch):
    sent = record_sent_tasks(monkeypatch)
    data = rule_set_snapshot()
    data["policy"]["threshold"] = 35
    named(data, "Software")["points"] = 25
    data["rules"] = [r for r in data["rules"] if r["name"] != "Big"]
    data["rules"].append(
        {"name": "Germany", "kind": "fit", "field": "country", "operator": "eq", "value": "DE", "points": 5}
    )

    version = rule_set_save(rules=data["rules"], policy=data["policy"], note="Tighter bar for Q3", actor=marketer)

    assert version.number == 2
    assert version.created_by == marketer and version.note == "Tighter bar for Q3"
    assert version.changes == [
        "Threshold: 20 -> 35",
        "Rule 'Software': points 15 -> 25",
        "Added fit rule 'Germany'",
        "Removed fit rule 'Big'",
    ]
    baseline = RuleSetVersion.objects.get(number=1)
    assert baseline.policy["threshold"] == 20 and {r["name"] for r in baseline.rules} == {"Software", "Big", "Webinars"}
    assert ScoringPolicy.current().threshold == 35 and ScoringPolicy.current().updated_by == marketer
    active = set(ScoringRule.objects.filter(is_active=True).values_list("name", flat=True))
    assert active == {"Software", "Webinars", "Germany"}
    assert ScoringRule.objects.get(name="Big").is_active is False
    assert sent == [("leads.tasks.rule_set_rescore_task", (version.pk,))]
    assert [v.number for v in rule_set_versions()] == [2, 1]


def test_saving_does_not_also_trigger_the_rescore_all_of_the_row_signals(rules, monkeypatch):
    sent = record_sent_tasks(monkeypatch)
    data = rule_set_snapshot()
    data["policy"]["threshold"] = 30

    rule_set_save(rules=data["rules"], policy=data["policy"])

    assert [name for name, _ in sent] == ["leads.tasks.rule_set_rescore_task"]


def test_restoring_an_earlier_version_brings_its_rules_and_policy_back_as_a_new_version(rules, manager, monkeypatch):
    record_sent_tasks(monkeypatch)
    software, big, webinar = rules
    data = rule_set_snapshot()
    data["policy"]["fit_minimum"] = 12
    data["rules"] = [r for r in data["rules"] if r["id"] != big.pk]
    rule_set_save(rules=data["rules"], policy=data["policy"], note="drop Big")

    restored = rule_set_restore(version_id=RuleSetVersion.objects.get(number=1).pk, actor=manager)

    assert restored.number == 3 and restored.restored_from.number == 1
    assert restored.note == "Restored version 1."
    assert restored.changes == ["Fit minimum: 12 -> 5", "Added fit rule 'Big'"]
    big.refresh_from_db()
    assert big.is_active is True
    assert ScoringPolicy.current().fit_minimum == 5
    snapshot = rule_set_snapshot()
    assert snapshot["rules"] == RuleSetVersion.objects.get(number=1).rules


def test_restoring_a_version_whose_rule_was_deleted_creates_the_rule_again(rules, monkeypatch):
    record_sent_tasks(monkeypatch)
    data = rule_set_snapshot()
    rule_set_save(rules=data["rules"], policy=data["policy"])
    ScoringRule.objects.filter(name="Big").delete()

    rule_set_restore(version_id=RuleSetVersion.objects.get(number=1).pk)

    assert ScoringRule.objects.filter(name="Big", is_active=True, points=10).count() == 1


def test_restoring_a_missing_version_is_a_field_error(rules):
    with pytest.raises(ValidationError) as exc:
        rule_set_restore(version_id=999999)
    assert exc.value.message_dict == {"version": ["No such version."]}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d["policy"].update(threshold=-1), "threshold"),
        (lambda d: d["policy"].update(threshold="lots"), "threshold"),
        (lambda d: d["policy"].update(threshold=float("nan")), "threshold"),
        (lambda d: d["policy"].update(fit_minimum=2**40), "fit_minimum"),
        (lambda d: d["policy"].update(fit_minimum=2.5), "fit_minimum"),
        (lambda d: d["policy"].update(default_half_life_days=0), "default_half_life_days"),
        (lambda d: d["policy"].update(rejection_penalty=-3), "rejection_penalty"),
        (lambda d: d["policy"].update(learned_mode="magic"), "learned_mode"),
        (lambda d: d["rules"][1].update(points="x"), "rules.1.points"),
        (lambda d: d["rules"][1].update(points=2**31), "rules.1.points"),
        (lambda d: d["rules"][1].update(name="a\x00b"), "rules.1.name"),
        (lambda d: d["rules"][1].update(name=""), "rules.1.name"),
        (lambda d: d["rules"][1].update(name="n" * 151), "rules.1.name"),
        (lambda d: d["rules"][1].update(field="shoe_size"), "rules.1.field"),
        (lambda d: d["rules"][2].update(operator="gte", value="many"), "rules.2.value"),
        (lambda d: d["rules"][1].update(kind="vibes"), "rules.1.kind"),
        (lambda d: d["rules"][1].update(segment_id=987654), "rules.1.segment_id"),
        (lambda d: d["rules"][0].update(event_kind="telepathy"), "rules.0.event_kind"),
        (lambda d: d["rules"][0].update(cap=-1), "rules.0.cap"),
        (lambda d: d["rules"][0].update(half_life_days=0), "rules.0.half_life_days"),
        (lambda d: d["rules"][0].update(points_per_event=None), "rules.0.points_per_event"),
        (lambda d: d["rules"].append(dict(d["rules"][0])), "rules.3.id"),
        (lambda d: d.update(rules="all of them"), "rules"),
        (lambda d: d.update(policy=[1]), "policy"),
    ],
)
def test_bad_input_is_refused_with_an_error_naming_the_field_and_changes_nothing(rules, change, key):
    data = rule_set_snapshot()
    change(data)

    with pytest.raises(ValidationError) as exc:
        rule_set_save(rules=data["rules"], policy=data["policy"])

    assert key in exc.value.message_dict
    assert not RuleSetVersion.objects.exists()
    assert ScoringPolicy.current().threshold == 20


def test_a_fit_rule_on_a_segment_is_kept_by_id(rules, monkeypatch):
    record_sent_tasks(monkeypatch)
    icp = SegmentFactory(name="ICP", is_icp=True)
    data = rule_set_snapshot()
    data["rules"].append({"name": "In the ICP", "kind": "fit", "segment_id": icp.pk, "points": 10})

    version = rule_set_save(rules=data["rules"], policy=data["policy"])

    assert ScoringRule.objects.get(name="In the ICP", is_active=True).segment == icp
    assert [r["segment_id"] for r in version.rules if r["name"] == "In the ICP"] == [icp.pk]


def test_the_background_rescore_scores_every_lead_in_chunks_and_reports_progress(rules, monkeypatch):
    sent = record_sent_tasks(monkeypatch)
    leads = [LeadFactory(industry="software", employees=50) for _ in range(5)]
    data = rule_set_snapshot()
    named(data, "Software")["points"] = 40
    version = rule_set_save(rules=data["rules"], policy=data["policy"])
    assert version.rescore_status == RescoreStatus.PENDING and version.rescore_total == 5

    status = rule_set_rescore(version_id=version.pk, now=NOW, chunk=2)

    version.refresh_from_db()
    assert status == RescoreStatus.DONE
    assert (version.rescore_done, version.rescore_total, version.rescore_percent) == (5, 5, 100)
    assert version.rescore_started_at and version.rescore_finished_at
    assert {lead.score for lead in Lead.objects.filter(pk__in=[x.pk for x in leads])} == {40}
    assert ("leads.tasks.leads_qualify_ready_task", ()) in sent


def test_a_rescore_run_again_after_it_finished_does_nothing(rules, monkeypatch):
    record_sent_tasks(monkeypatch)
    lead = LeadFactory(industry="software")
    data = rule_set_snapshot()
    version = rule_set_save(rules=data["rules"], policy=data["policy"])
    rule_set_rescore(version_id=version.pk, now=NOW)
    Lead.objects.filter(pk=lead.pk).update(score=-1)

    assert rule_set_rescore(version_id=version.pk, now=NOW) == RescoreStatus.DONE

    assert Lead.objects.get(pk=lead.pk).score == -1


def test_an_older_versions_rescore_stops_as_superseded_when_a_newer_version_was_saved(rules, monkeypatch):
    record_sent_tasks(monkeypatch)
    LeadFactory()
    data = rule_set_snapshot()
    older = rule_set_save(rules=data["rules"], policy=data["policy"])
    newer = rule_set_save(rules=data["rules"], policy=data["policy"])

    assert rule_set_rescore(version_id=older.pk, now=NOW) == RescoreStatus.SUPERSEDED
    assert rule_set_rescore(version_id=newer.pk, now=NOW) == RescoreStatus.DONE
    older.refresh_from_db()
    assert older.rescore_status == RescoreStatus.SUPERSEDED and older.rescore_done == 0


def test_a_saved_change_ends_with_the_leads_that_now_qualify_as_mqls(rules, monkeypatch):
    hot = LeadFactory(industry="software", employees=50)
    cold = LeadFactory(industry="retail", employees=50)
    EngagementEventFactory(lead=hot, kind="page_view")
    leads_rescore_all(qualify=False)
    assert Lead.objects.get(pk=hot.pk).stage == "new"
    run_sent_tasks_inline(monkeypatch)
    data = rule_set_snapshot()
    data["policy"]["threshold"] = 15

    rule_set_save(rules=data["rules"], policy=data["policy"], note="lower bar")

    assert Lead.objects.get(pk=hot.pk).stage == "mql"
    assert Lead.objects.get(pk=cold.pk).stage == "new"
    assert RuleSetVersion.objects.get(number=2).rescore_status == RescoreStatus.DONE
