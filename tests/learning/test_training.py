"""Training from lifecycle outcomes, the guard, exclusions, versions and activation."""

import datetime
import random

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from leads.learning.apply import learned_reasons, learned_scores_apply, model_additive, python_probability
from leads.learning.features import event_counts_for, lead_row, outcomes_in_window
from leads.learning.models import LearnedModel, LearnedModelStatus, LearningPolicy
from leads.learning.services import (
    learned_model_activate,
    learned_model_deactivate,
    learned_model_train,
    learning_policy_update,
)
from leads.models import EngagementEvent, EngagementKind, Lead, LeadTransition, LifecycleStage
from tests.leads.factories import LeadFactory
from tests.sent_tasks import record_sent_tasks

from .factories import LearnedModelFactory, outcome_history

pytestmark = pytest.mark.django_db
S = LifecycleStage


@pytest.fixture
def trained(db):
    outcome_history(400, seed=11, signal=True)
    return learned_model_train(actor=None)


def test_training_on_a_known_signal_recovers_it(trained):
    assert trained.status == LearnedModelStatus.READY
    assert trained.metrics["auc_time"] > 0.7
    weights = {(w.feature, w.value): w.weight for w in trained.weights.all()}
    assert weights[("industry", "software")] > 0.5 > -0.5 > weights[("industry", "retail")]
    logistic = model_additive(trained)
    # Attending a webinar raises the logit.
    webinar = logistic.logit({"events.webinar": 1}) - logistic.logit({"events.webinar": 0})
    assert webinar > 0.3
    assert len(trained.metrics["lift"]) == 10 and len(trained.metrics["calibration"]) == 10
    assert trained.positives + trained.negatives == 400


def test_training_on_pure_noise_does_not_claim_a_signal(db):
    outcome_history(400, seed=12, signal=False)
    model = learned_model_train(actor=None)
    assert model.status == LearnedModelStatus.READY
    assert 0.35 < model.metrics["auc_time"] < 0.65
    assert max(abs(w.weight) for w in model.weights.all()) < 0.5


def test_too_few_outcomes_keeps_rules_only_and_says_why(db):
    outcome_history(40, seed=13, signal=True)
    model = learned_model_train(actor=None)
    assert model.status == LearnedModelStatus.INSUFFICIENT_DATA
    assert "at least 30 of each" in model.note
    assert not model.weights.exists()
    with pytest.raises(ValidationError) as error:
        learned_model_activate(model_id=model.pk, actor=None)
    assert "model" in error.value.message_dict


def test_the_minimum_is_a_policy_setting(db):
    outcome_history(40, seed=13, signal=True)
    learning_policy_update(actor=None, min_outcomes_per_class=5)
    assert learned_model_train(actor=None).status == LearnedModelStatus.READY


def test_excluded_features_are_not_learned_and_are_kept_with_the_version(db):
    outcome_history(400, seed=11, signal=True)
    model = learned_model_train(actor=None, excluded_features=["industry", "events.webinar"])
    assert model.excluded_features == ["events.webinar", "industry"]
    features = {w.feature for w in model.weights.all()}
    assert "industry" not in features and "events.webinar" not in features
    assert "country" in features and "attr.plan" in features


def test_an_unknown_exclusion_is_refused_naming_the_field(db):
    with pytest.raises(ValidationError) as error:
        learned_model_train(actor=None, excluded_features=["shoe_size"])
    assert "excluded_features" in error.value.message_dict


def test_outcomes_come_from_history_and_the_policy_says_which_reasons_count(db):
    now = timezone.now()
    won, lost, rejected, no_contact, other, open_lead = LeadFactory.create_batch(6)
    LeadTransition.objects.bulk_create(
        [
            LeadTransition(
                lead=won, from_stage=S.OPPORTUNITY, to_stage=S.CUSTOMER, reason="won", outcome="won", at=now
            ),
            LeadTransition(
                lead=lost,
                from_stage=S.OPPORTUNITY,
                to_stage=S.RECYCLED,
                reason="lost:price",
                outcome="lost",
                outcome_reason="price",
                at=now,
            ),
            LeadTransition(
                lead=rejected,
                from_stage=S.HANDED_OFF,
                to_stage=S.RECYCLED,
                reason="rejected:x",
                outcome="rejected",
                outcome_reason="x",
                at=now,
            ),
            LeadTransition(
                lead=no_contact,
                from_stage=S.SAL,
                to_stage=S.RECYCLED,
                reason="no_contact",
                outcome="no_contact",
                at=now,
            ),
            LeadTransition(lead=other, from_stage=S.SAL, to_stage=S.RECYCLED, reason="duplicate", at=now),
            LeadTransition(lead=open_lead, from_stage=S.NEW, to_stage=S.ENGAGED, at=now),
        ]
    )
    window = {"start": now - datetime.timedelta(days=1), "end": now + datetime.timedelta(days=1)}
    outcomes = outcomes_in_window(negative_reasons=["lost:", "rejected:", "no_contact"], **window)
    assert {(o.lead_id, o.positive) for o in outcomes} == {
        (won.pk, True),
        (lost.pk, False),
        (rejected.pk, False),
        (no_contact.pk, False),
    }
    only_lost = outcomes_in_window(negative_reasons=["lost:"], **window)
    assert {o.lead_id for o in only_lost} == {won.pk, lost.pk}
    # As the policy's help text says: "lost" is the same as "lost:"; "lost:price" one reason.
    assert {o.lead_id for o in outcomes_in_window(negative_reasons=["lost"], **window)} == {won.pk, lost.pk}
    assert {o.lead_id for o in outcomes_in_window(negative_reasons=["lost:other"], **window)} == {won.pk}


def test_engagement_after_the_outcome_does_not_train_the_model(db):
    lead = LeadFactory()
    at = timezone.now()
    EngagementEvent.objects.create(lead=lead, kind=EngagementKind.WEBINAR, occurred_at=at - datetime.timedelta(days=1))
    EngagementEvent.objects.create(lead=lead, kind=EngagementKind.WEBINAR, occurred_at=at + datetime.timedelta(days=1))
    assert event_counts_for([lead.pk], until={lead.pk: at})[lead.pk] == {"webinar": 1}
    assert event_counts_for([lead.pk])[lead.pk] == {"webinar": 2}


def test_versions_number_up_and_only_one_is_active(trained, django_capture_on_commit_callbacks, monkeypatch):
    sent = record_sent_tasks(monkeypatch)
    second = learned_model_train(actor=None)
    assert second.version == trained.version + 1
    with django_capture_on_commit_callbacks(execute=True):
        learned_model_activate(model_id=trained.pk, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        learned_model_activate(model_id=second.pk, actor=None)
    assert list(LearnedModel.objects.active()) == [second]
    assert sent == [
        ("leads.learning.tasks.learned_apply_task", (trained.pk,)),
        ("leads.learning.tasks.learned_apply_task", (second.pk,)),
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        LearnedModel.objects.filter(pk=trained.pk).update(is_active=True)


def test_activation_records_who_and_when(trained, marketer, monkeypatch):
    record_sent_tasks(monkeypatch)
    model = learned_model_activate(model_id=trained.pk, actor=marketer)
    model.refresh_from_db()
    assert model.is_active and model.activated_by == marketer and model.activated_at is not None


def _random_leads(seed: int) -> list:
    rng = random.Random(seed)
    leads = []
    for i in range(60):
        attributes = rng.choice(
            [
                {},
                {"plan": rng.choice(["free", "pro", "", "enterprise"])},
                {"plan": None, "age": rng.choice([18, 35.5, 69, 90, None, -1e6, 1e6])},
                {"plan": "pro", "age": "not a number"},
                {"age": True, "plan": 3},
            ]
        )
        leads.append(
            LeadFactory(
                email=f"random{i}@example.com",
                industry=rng.choice(["software", "retail", "", "unknown-industry"]),
                country=rng.choice(["DE", "PT", "US", ""]),
                employees=rng.choice([None, 1, 5, 49, 50, 51, 5000, 10**6]),
                source=rng.choice(["web_form", "event", "other"]),
                email_opt_in=rng.random() < 0.5,
                custom_attributes=attributes,
            )
        )
        for _ in range(rng.choice([0, 0, 1, 3, 9])):
            kind = rng.choice([EngagementKind.WEBINAR, EngagementKind.WEBINAR, EngagementKind.PAGE_VIEW])
            EngagementEvent.objects.create(lead=leads[-1], kind=kind, occurred_at=timezone.now())
    return leads


def _assert_learned_scores_match_python(model, leads):
    logistic = model_additive(model)
    counts = event_counts_for([lead.pk for lead in leads])
    for lead in leads:
        lead.refresh_from_db()
        expected = python_probability(logistic, lead, counts.get(lead.pk, {}))
        assert lead.learned_score == pytest.approx(expected, abs=1e-9), lead.custom_attributes


def test_sql_application_equals_python_application_on_random_leads(trained):
    leads = _random_leads(5)
    LearnedModel.objects.filter(pk=trained.pk).update(is_active=True)
    learned_scores_apply()
    _assert_learned_scores_match_python(trained, leads)


def test_sql_application_equals_the_training_library_on_random_leads(trained):
    """The exported weights (mains and two-field tables) applied in SQL give the library's own
    predict_proba on leads it never saw, odd attribute values included."""
    assert trained.pair_weights.exists()
    leads = _random_leads(7)
    LearnedModel.objects.filter(pk=trained.pk).update(is_active=True)
    learned_scores_apply()
    counts = event_counts_for([lead.pk for lead in leads])
    rows = []
    for lead in leads:
        lead.refresh_from_db()
        rows.append(lead_row(lead, counts.get(lead.pk, {})))
    library = trained.library.library_proba(rows)
    for lead, expected in zip(leads, library, strict=True):
        assert lead.learned_score == pytest.approx(float(expected), abs=1e-9), lead.custom_attributes


def _hand_made_pair_model():
    """A version with a two-field table over two JSON attributes (no training needed)."""
    from leads.learning.learner import AdditiveModel, FeatureSpec, PairTerm
    from leads.learning.models import LearnedPairWeight, LearnedWeight

    plan = FeatureSpec(name="attr.plan", kind="categorical", values=["free", "pro", "enterprise"], exact=True)
    age = FeatureSpec(
        name="attr.age",
        kind="numeric",
        edges=[30.0, 60.0],
        pair_edges=[40.0],
        exact=True,
        center=45.0,
        scale=12.0,
        low=18.0,
        high=90.0,
    )
    rng = random.Random(5)
    weights = {(s.name, t): rng.uniform(-1, 1) for s in (plan, age) for t in s.tokens()}
    weights[("attr.age", "(trend)")] = 0.3
    pair = PairTerm(
        first="attr.plan",
        second="attr.age",
        weights={(a, b): rng.uniform(-1, 1) for a in plan.tokens(pair=True) for b in age.tokens(pair=True)},
    )
    additive = AdditiveModel(specs=[plan, age], weights=weights, intercept=-0.4, pairs=[pair])
    model = LearnedModelFactory(features=[plan.to_dict(), age.to_dict()], intercept=-0.4, is_active=True)
    LearnedWeight.objects.bulk_create(LearnedWeight(model=model, **row) for row in additive.weight_rows())
    LearnedPairWeight.objects.bulk_create(LearnedPairWeight(model=model, **row) for row in additive.pair_rows())
    return model


def test_each_attribute_is_read_once_per_lead_not_once_per_branch(db):
    """The terms compare what was read: no JSON read outside the per-lead reads, so a pair
    table costs comparisons of numbers, not a key lookup per branch tried."""
    from leads.learning.apply import learned_scoring_terms

    model = _hand_made_pair_model()
    sql, _ = Lead.objects.annotate(x=learned_scoring_terms(model).lead_logit).values("x").query.sql_with_params()
    terms_sql, _, reads_sql = sql.partition(" FROM (SELECT ")
    assert "learned_reads" in sql and "custom_attributes" in reads_sql
    assert "custom_attributes" not in terms_sql
    # The same results as the Python application, odd values included (SQLite and PostgreSQL).
    leads = _random_leads(6)
    learned_scores_apply()
    _assert_learned_scores_match_python(model, leads)
    learned_scores_apply(scope=Q(pk__in=[lead.pk for lead in leads[:3]]))
    _assert_learned_scores_match_python(model, leads)


def test_applying_to_every_lead_is_one_joined_update_and_a_rerun_rewrites_nothing(trained):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    leads = _random_leads(5)
    LearnedModel.objects.filter(pk=trained.pk).update(is_active=True)
    with CaptureQueriesContext(connection) as queries:
        written = learned_scores_apply()
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    # One statement for every lead; events are counted once, grouped by lead, not per lead.
    assert len(updates) == 1 and "LEFT JOIN" in updates[0] and "GROUP BY" in updates[0]
    assert written == Lead.objects.count()
    _assert_learned_scores_match_python(trained, leads)
    assert learned_scores_apply() == 0


@pytest.mark.parametrize("mode", ["beside", "blend"])
def test_the_rule_scorer_writes_the_same_learned_probability_as_python(trained, mode):
    from leads.models import ScoringPolicy
    from leads.scoring import lead_score, leads_rescore_all

    ScoringPolicy.objects.update_or_create(pk=1, defaults={"learned_mode": mode, "learned_weight": 20})
    leads = _random_leads(6)
    LearnedModel.objects.filter(pk=trained.pk).update(is_active=True)
    leads_rescore_all(qualify=False)
    _assert_learned_scores_match_python(trained, leads)
    Lead.objects.update(learned_score=None)
    for lead in leads[:10]:
        lead_score(lead_id=lead.pk)
    _assert_learned_scores_match_python(trained, leads[:10])


def test_without_an_active_model_learned_scores_are_cleared(trained):
    LearnedModel.objects.filter(pk=trained.pk).update(is_active=True)
    learned_scores_apply()
    assert Lead.objects.filter(learned_score__isnull=False).exists()
    learned_model_deactivate(actor=None)
    learned_scores_apply()
    assert not Lead.objects.filter(learned_score__isnull=False).exists()


def test_reasons_name_each_feature_value_and_its_weight(trained):
    LearnedModel.objects.filter(pk=trained.pk).update(is_active=True)
    lead = LeadFactory(industry="software")
    reasons = learned_reasons(lead)
    software = next(r for r in reasons if r["feature"] == "industry")
    assert software["value"] == "software"
    assert software["text"].startswith("industry = software: +")
    assert reasons == sorted(reasons, key=lambda r: -abs(r["weight"]))


def test_reasons_include_the_two_field_tables_and_add_up_to_the_logit(trained):
    import math

    LearnedModel.objects.filter(pk=trained.pk).update(is_active=True)
    lead = LeadFactory(industry="software", country="DE", employees=500, custom_attributes={"plan": "pro", "age": 40})
    learned_scores_apply()
    lead.refresh_from_db()
    additive = model_additive(trained)
    pairs = {p.name for p in additive.pairs}
    contributions = additive.contributions(lead_row(lead, {}))
    assert any(feature in pairs for feature, _, _ in contributions)
    reasons = learned_reasons(lead)
    pair_reasons = [r for r in reasons if r["pair"]]
    assert pair_reasons and all(" x " in r["feature"] and " x " in r["value"] for r in pair_reasons)
    logit = trained.intercept + sum(w for _, _, w in contributions)
    assert lead.learned_score == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-9)


def test_reasons_are_empty_without_an_active_model(db):
    assert learned_reasons(LeadFactory()) == []


def test_learning_policy_rejects_bad_values_naming_the_field(db):
    for changes, field in (
        ({"negative_reasons": []}, "negative_reasons"),
        ({"min_outcomes_per_class": 0}, "min_outcomes_per_class"),
        ({"window_days": "a"}, "window_days"),
        ({"default_exclusions": ["nope"]}, "default_exclusions"),
    ):
        with pytest.raises(ValidationError) as error:
            learning_policy_update(actor=None, **changes)
        assert field in error.value.message_dict
    assert LearningPolicy.current().min_outcomes_per_class == 30


def test_learning_policy_rejects_codes_that_name_no_failure_outcome(db):
    # Old prefix-style codes ("lost_deal") or a success ("won") would silently count nothing.
    for codes in (["lost_deal"], ["won"], ["lost", "price:lost"]):
        with pytest.raises(ValidationError) as error:
            learning_policy_update(actor=None, negative_reasons=codes)
        assert "Not a failure outcome" in error.value.message_dict["negative_reasons"][0]
    policy = learning_policy_update(actor=None, negative_reasons=["lost", "rejected:bad_fit", "no_contact:"])
    assert policy.negative_reasons == ["lost", "rejected:bad_fit", "no_contact:"]


def test_learning_policy_help_names_typed_outcomes_not_prefixes():
    help_text = LearningPolicy._meta.get_field("negative_reasons").help_text
    assert "prefix" not in help_text and '"lost:price"' in help_text


def test_a_factory_model_can_be_activated(monkeypatch):
    record_sent_tasks(monkeypatch)
    model = LearnedModelFactory()
    assert learned_model_activate(model_id=model.pk, actor=None).is_active


def test_activation_rescores_and_blend_mode_adds_the_weighted_probability(trained, django_capture_on_commit_callbacks):
    from leads.learning.tasks import learned_apply_task
    from leads.models import ScoringPolicy

    ScoringPolicy.objects.update_or_create(pk=1, defaults={"learned_mode": "blend", "learned_weight": 20})
    lead = LeadFactory(industry="software")
    learned_model_activate(model_id=trained.pk, actor=None)
    learned_apply_task(trained.pk)  # what the on-commit enqueue runs on the worker
    lead.refresh_from_db()
    assert lead.learned_score is not None
    assert lead.score == pytest.approx(lead.fit_score + lead.engagement_score + 20 * lead.learned_score)
    learned = [e for e in lead.score_breakdown if e["kind"] == "learned"]
    assert learned[0]["points"] == pytest.approx(20 * lead.learned_score)


def test_rules_only_policy_still_keeps_the_learned_probability_for_the_page(trained):
    from leads.learning.tasks import learned_apply_task

    lead = LeadFactory(industry="software")
    LearnedModel.objects.filter(pk=trained.pk).update(is_active=True)
    learned_apply_task(trained.pk)
    lead.refresh_from_db()
    assert 0 < lead.learned_score < 1
    assert not any(e.get("kind") == "learned" for e in lead.score_breakdown)


def test_training_task_is_routed_to_the_marketing_queue():
    from django.conf import settings

    from config.celery import app
    from leads.learning.tasks import learned_apply_task, learned_train_task

    router = app.amqp.router
    for task in (learned_train_task, learned_apply_task):
        assert router.route({}, task.name)["queue"].name == "marketing"
    assert settings.CELERY_BEAT_SCHEDULE["learning-train-weekly"]["task"] == learned_train_task.name
