"""The daily re-score costs what changed: leads whose inputs changed are re-scored from their
events, the rest move forward by decay alone, and every lead ends where a full re-score puts
it (rules with caps, half-lives, a rejection penalty, a clock-reading fit rule, a blended
learned probability, future-dated events); a lead crossing the threshold qualifies once."""

import datetime
import random

import pytest
from django.utils import timezone

from leads.models import DailyRescore, EngagementEvent, Lead, LeadTransition, LifecycleStage, RuleKind, ScoringPolicy
from leads.scoring import DAILY_OVERLAP, leads_qualify_ready, leads_rescore_all, leads_rescore_daily
from tests.leads.factories import EngagementEventFactory, LeadFactory, ScoringRuleFactory

from .test_scoring import engagement_rule, policy

pytestmark = pytest.mark.django_db
S = LifecycleStage
DAY = datetime.timedelta(days=1)
KINDS = ("webinar", "email_click", "page_view", "form_submit")


@pytest.fixture
def rules():
    policy(threshold=40, fit_minimum=0, rejection_penalty=5, learned_mode="blend", learned_weight=10)
    ScoringRuleFactory(field="industry", operator="eq", value="software", points=15)
    ScoringRuleFactory(field="created_at", operator="within_last_days", value=30, points=7)
    engagement_rule("webinar", points=15, cap=30, half_life=30)
    engagement_rule("email_click", points=5, cap=20, half_life=14)
    engagement_rule("page_view", points=1, cap=None, half_life=7)
    engagement_rule("form_submit", points=20, cap=40)


def book(n, *, seed, t0):
    rng = random.Random(seed)
    leads = []
    for i in range(n):
        lead = LeadFactory(
            email=f"daily{seed}-{i}@example.com",
            industry=rng.choice(["software", "retail"]),
            created_at=t0 - datetime.timedelta(days=rng.choice([2, 29.5, 100])),
            learned_score=rng.choice([None, 0.2, 0.9]),
        )
        for _ in range(rng.choice([0, 0, 1, 2, 4])):
            EngagementEventFactory(
                lead=lead,
                kind=rng.choice(KINDS),
                occurred_at=t0 - datetime.timedelta(days=rng.uniform(0, 60)),
            )
        leads.append(lead)
    # One event dated in the future: it counts at age 0 until its day comes.
    EngagementEventFactory(lead=leads[1], kind="webinar", occurred_at=t0 + datetime.timedelta(hours=30))
    LeadTransition.objects.create(
        lead=leads[2],
        from_stage=S.HANDED_OFF,
        to_stage=S.RECYCLED,
        reason="rejected:bad_fit",
        outcome="rejected",
        at=t0 - 3 * DAY,
    )
    return leads


def snapshot():
    return {
        pk: (score, engagement, {(e["kind"], e.get("rule_id")): e["points"] for e in breakdown})
        for pk, score, engagement, breakdown in Lead.objects.values_list(
            "pk", "score", "engagement_score", "score_breakdown"
        )
    }


def assert_same(daily, full):
    assert daily.keys() == full.keys()
    for pk, (score, engagement, points) in full.items():
        d_score, d_engagement, d_points = daily[pk]
        assert d_score == pytest.approx(score, abs=1e-6), pk
        assert d_engagement == pytest.approx(engagement, abs=1e-6), pk
        assert d_points.keys() == points.keys(), pk
        for rule_id, value in points.items():
            assert d_points[rule_id] == pytest.approx(value, abs=1e-6), (pk, rule_id)


def test_the_daily_job_ends_where_a_full_rescore_does_day_after_day(rules):
    t0 = timezone.now()
    leads = book(60, seed=1, t0=t0)
    assert leads_rescore_daily(now=t0, qualify=False)["full"]  # the first run re-scores every lead
    for day in (1, 2, 5):
        now = t0 + day * DAY
        # The clock is simulated: writes of the day are stamped as if they happened during it.
        during = now - datetime.timedelta(hours=2)
        for lead in leads[day * 3 : day * 3 + 3]:  # new events on a few leads
            event = EngagementEvent.objects.create(lead=lead, kind="email_click", occurred_at=during - DAY / 2)
            EngagementEvent.objects.filter(pk=event.pk).update(created_at=during)
        edited = Lead.objects.get(pk=leads[40 + day].pk)
        edited.industry = "software" if edited.industry != "software" else "retail"
        edited.save()
        Lead.objects.filter(pk=edited.pk).update(updated_at=during)
        result = leads_rescore_daily(now=now, qualify=False)
        assert not result["full"]
        daily = snapshot()
        leads_rescore_all(now=now, qualify=False)
        assert_same(daily, snapshot())


def test_only_changed_leads_are_rescored_and_only_decaying_ones_rewritten(rules):
    built = timezone.now()
    leads = book(40, seed=2, t0=built)
    quiet = LeadFactory(email="quiet@example.com", industry="retail", created_at=built - 100 * DAY)
    capped = LeadFactory(email="capped@example.com", created_at=built - 100 * DAY)
    for _ in range(6):  # far over the cap: a day's decay leaves it there
        EngagementEventFactory(lead=capped, kind="form_submit", occurred_at=built - DAY)
    t0 = timezone.now() + 2 * DAILY_OVERLAP  # the first run, well after the book was written
    leads_rescore_daily(now=t0, qualify=False)
    EngagementEvent.objects.create(lead=leads[5], kind="webinar", occurred_at=t0 + datetime.timedelta(hours=3))
    before = dict(Lead.objects.values_list("pk", "scored_at"))
    result = leads_rescore_daily(now=t0 + DAY, qualify=False)
    marker = DailyRescore.objects.get()
    assert not result["full"] and marker.rescored == result["rescored"] and marker.decayed == result["decayed"]
    # leads[5] (new event), leads[1] (future event), the clock-reading fit rule's 29.5-day-old
    # leads: re-scored; nobody else.
    clocked = Lead.objects.filter(created_at__lt=built - 29 * DAY, created_at__gt=built - 30 * DAY).count()
    assert result["rescored"] <= 2 + clocked < 40
    after = dict(Lead.objects.values_list("pk", "scored_at"))
    assert after[quiet.pk] == before[quiet.pk] and after[capped.pk] == before[capped.pk]
    assert result["decayed"] > 0


def test_a_rule_change_makes_the_next_daily_run_a_full_one(rules):
    t0 = timezone.now()
    book(10, seed=3, t0=t0)
    leads_rescore_daily(now=t0, qualify=False)
    rule = engagement_rule("email_open", points=2, cap=None, half_life=3)
    assert leads_rescore_daily(now=t0 + DAY, qualify=False)["full"]
    rule.points_per_event = 3
    rule.save()
    assert leads_rescore_daily(now=t0 + 2 * DAY, qualify=False)["full"]
    assert not leads_rescore_daily(now=t0 + 3 * DAY, qualify=False)["full"]


def test_a_lead_that_crosses_the_threshold_qualifies_once(rules):
    t0 = timezone.now()
    book(20, seed=4, t0=t0)
    hot = LeadFactory(email="hot@example.com", industry="retail", created_at=t0 - 100 * DAY)
    leads_rescore_daily(now=t0, qualify=False)
    leads_qualify_ready()
    hot.refresh_from_db()
    assert hot.stage == S.NEW and hot.score < ScoringPolicy.current().threshold
    for _ in range(3):
        EngagementEvent.objects.create(lead=hot, kind="form_submit", occurred_at=t0 + datetime.timedelta(hours=1))
    for day in (1, 2, 3):
        leads_rescore_daily(now=t0 + day * DAY, qualify=False)
        leads_qualify_ready()
    hot.refresh_from_db()
    assert hot.stage == S.MQL
    assert LeadTransition.objects.filter(lead=hot, to_stage=S.MQL).count() == 1
    # Every lead over the threshold after the daily runs has qualified: none left waiting.
    leads_rescore_all(now=t0 + 3 * DAY, qualify=False)
    from leads.scoring import qualification_q

    assert not Lead.objects.filter(qualification_q(ScoringPolicy.current())).exists()


def test_the_nightly_beat_job_runs_the_daily_rescore():
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["leads-rescore-nightly"]["task"] == "leads.tasks.leads_rescore_daily_task"


def test_fit_rules_reading_no_clock_are_not_rechecked(rules, django_assert_max_num_queries):
    from leads.scoring import _changed_since, rule_set_current

    t0 = timezone.now()
    rules_now = rule_set_current()
    assert RuleKind.FIT in {r.kind for r in rules_now.fit}
    # Three reads of what changed plus one per clock-reading fit rule (one here).
    with django_assert_max_num_queries(4):
        _changed_since(rules_now, t0 - DAY, t0)
