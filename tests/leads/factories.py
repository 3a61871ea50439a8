import datetime

import factory
from django.utils import timezone

from leads.models import (
    EngagementEvent,
    EngagementKind,
    Lead,
    LeadOutcome,
    LeadTransition,
    LifecycleStage,
    RuleKind,
    ScoringPolicy,
    ScoringRule,
    Segment,
    SegmentVersion,
)
from leads.services import lead_engagement_refresh


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@example{n % 50}.com")
    company = factory.Faker("company")
    company_domain = factory.LazyAttribute(lambda o: o.email.split("@")[1])
    industry = "software"
    employees = 120
    country = "DE"
    title = "Head of Operations"
    stage = LifecycleStage.NEW


def _outcome_for(to_stage: str, reason: str) -> tuple[str, str]:
    if to_stage == LifecycleStage.SAL:
        return LeadOutcome.ACCEPTED, ""
    if to_stage == LifecycleStage.CUSTOMER and reason == "won":
        return LeadOutcome.WON, ""
    if to_stage == LifecycleStage.RECYCLED:
        if reason == "no_contact":
            return LeadOutcome.NO_CONTACT, ""
        for outcome in (LeadOutcome.REJECTED, LeadOutcome.LOST):
            if reason.startswith(f"{outcome}:"):
                return outcome, reason[len(outcome) + 1 :]
    return "", ""


class LeadTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadTransition

    lead = factory.SubFactory(LeadFactory)
    from_stage = LifecycleStage.NEW
    to_stage = LifecycleStage.ENGAGED
    at = factory.LazyFunction(timezone.now)
    # the typed outcome the leads services write alongside these reason codes
    outcome = factory.LazyAttribute(lambda o: _outcome_for(o.to_stage, o.reason)[0])
    outcome_reason = factory.LazyAttribute(lambda o: _outcome_for(o.to_stage, o.reason)[1])
    reason = ""


class EngagementEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EngagementEvent

    lead = factory.SubFactory(LeadFactory)
    kind = EngagementKind.PAGE_VIEW
    occurred_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Like every write of events outside engagement_record: recompute the lead's
        # latest-event columns, which engagement segments read.
        event = super()._create(model_class, *args, **kwargs)
        lead_engagement_refresh(lead_ids=[event.lead_id])
        return event


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    definition = factory.LazyFunction(lambda: {"all": [{"field": "industry", "op": "eq", "value": "software"}]})


class SegmentVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentVersion

    segment = factory.SubFactory(SegmentFactory)
    version = factory.Sequence(lambda n: n + 1)
    definition = factory.LazyAttribute(lambda o: o.segment.definition)


class ScoringRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoringRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = RuleKind.FIT
    field = "industry"
    operator = "eq"
    value = "software"
    points = 10


class ScoringPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoringPolicy
        django_get_or_create = ("id",)

    id = 1
