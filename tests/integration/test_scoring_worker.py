"""An engagement event recorded here is scored by a real worker on the ``marketing`` queue:
the lead qualifies to MQL (through the lifecycle) without anyone calling the scorer."""

import pytest

from leads.api import engagement_record
from leads.models import Lead, LeadTransition, LifecycleStage, RuleKind, ScoringPolicy, ScoringRule
from tests.integration.conftest import wait_until
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_event_is_scored_by_a_worker_and_the_lead_qualifies(celery_worker_factory):
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": 30, "fit_minimum": 10})
    ScoringRule.objects.create(
        name="Software", kind=RuleKind.FIT, field="industry", operator="eq", value="software", points=20
    )
    ScoringRule.objects.create(name="Webinar", kind=RuleKind.ENGAGEMENT, event_kind="webinar", points_per_event=15)
    lead = LeadFactory(industry="software")
    celery_worker_factory(queues="marketing,sales")

    engagement_record(lead_id=lead.pk, kind="webinar", source_reference="webinar-7")

    wait_until(
        lambda: Lead.objects.filter(pk=lead.pk, stage=LifecycleStage.MQL).exists(),
        timeout=60,
        message="the worker to score and qualify the lead",
    )
    lead.refresh_from_db()
    assert lead.score == pytest.approx(35.0, abs=0.01)
    assert lead.qualified_at is not None
    assert LeadTransition.objects.filter(lead=lead, to_stage=LifecycleStage.MQL).count() == 1
