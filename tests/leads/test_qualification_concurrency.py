"""Two workers scoring the same lead at once (duplicate delivery, two events at once) move it
to MQL once and announce it once: the lifecycle service locks the row and the qualification
re-checks under the lock."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from leads.api import lead_qualified, lead_score
from leads.models import LeadTransition, LifecycleStage, RuleKind, ScoringPolicy, ScoringRule
from tests.leads.factories import EngagementEventFactory, LeadFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_scoring_qualifies_once_and_signals_once():
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": 30, "fit_minimum": 10})
    ScoringRule.objects.create(
        name="Fit", kind=RuleKind.FIT, field="industry", operator="eq", value="software", points=20
    )
    ScoringRule.objects.create(name="Webinar", kind=RuleKind.ENGAGEMENT, event_kind="webinar", points_per_event=15)
    lead = LeadFactory(industry="software")
    EngagementEventFactory(lead=lead, kind="webinar", occurred_at=timezone.now())
    received, errors = [], []
    barrier = threading.Barrier(4)

    def on_qualified(sender, lead_id, **kwargs):
        received.append(lead_id)

    def score():
        try:
            barrier.wait()
            lead_score(lead_id=lead.pk)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    lead_qualified.connect(on_qualified, dispatch_uid="test-concurrency")
    try:
        threads = [threading.Thread(target=score) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        lead_qualified.disconnect(dispatch_uid="test-concurrency")

    assert errors == []
    assert received == [lead.pk]
    assert LeadTransition.objects.filter(lead=lead, to_stage=LifecycleStage.MQL).count() == 1
