"""The recycled-lead rule has one definition (``leads.scoring.recycled_engaged_again_q``):
a lead sent back to marketing counts again only with engagement after it came back. Both
uses follow it: qualification (MQL when the score is enough) and the move back to ENGAGED
(when it is not)."""

import datetime

import pytest
from django.utils import timezone

from leads.api import lead_score
from leads.models import Lead, LifecycleStage, ScoringPolicy
from tests.leads.factories import EngagementEventFactory, LeadFactory

pytestmark = pytest.mark.django_db
S = LifecycleStage
HOUR = datetime.timedelta(hours=1)


@pytest.mark.parametrize("threshold, moved_to", [(0, S.MQL), (1000, S.ENGAGED)])
@pytest.mark.parametrize("events, counts_again", [((), False), ((-2,), False), ((-2, 1), True), ((3,), True)], ids=str)
def test_a_recycled_lead_counts_again_only_with_engagement_after_it_came_back(
    threshold, moved_to, events, counts_again
):
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": threshold, "fit_minimum": 0})
    came_back = timezone.now() - 10 * HOUR
    lead = LeadFactory(stage=S.RECYCLED, stage_changed_at=came_back)
    for hours in events:
        EngagementEventFactory(lead=lead, occurred_at=came_back + hours * HOUR)

    lead_score(lead_id=lead.pk)

    assert Lead.objects.get(pk=lead.pk).stage == (moved_to if counts_again else S.RECYCLED)
