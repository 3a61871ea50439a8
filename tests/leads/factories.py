import datetime

import factory
from django.utils import timezone

from leads.models import (
    EngagementEvent,
    EngagementKind,
    Lead,
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


class LeadTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadTransition

    lead = factory.SubFactory(LeadFactory)
    from_stage = LifecycleStage.NEW
    to_stage = LifecycleStage.ENGAGED
    at = factory.LazyFunction(timezone.now)


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
