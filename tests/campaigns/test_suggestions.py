import datetime

import pytest
from django.utils import timezone

from campaigns.api import collateral_suggestions
from campaigns.models import FunnelStage
from leads.models import LifecycleStage
from tests.campaigns.factories import CollateralFactory, CollateralVersionFactory
from tests.leads.factories import LeadFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def item(**kwargs):
    kwargs.setdefault("industries", [])
    kwargs.setdefault("objection_categories", [])
    return CollateralFactory(**kwargs)


def test_an_item_answering_the_raised_objection_ranks_first_and_says_why():
    lead = LeadFactory(industry="software")
    generic = item(title="Generic")
    price = item(title="Price answer", objection_categories=["price"])

    result = collateral_suggestions(lead=lead, objection_categories=["price"])

    assert [s.collateral for s in result] == [price, generic]
    assert result[0].reasons[0] == "Answers the price objection"


def test_industry_match_beats_an_item_for_any_industry_and_other_industries_get_nothing():
    lead = LeadFactory(industry="Software")
    mine = item(title="Software story", industries=["software"])
    anyone = item(title="For all")
    item(title="Healthcare story", industries=["healthcare"])

    result = collateral_suggestions(lead=lead)

    assert [s.collateral for s in result] == [mine, anyone]
    assert result[0].reasons == ["Made for Software"]


def test_funnel_stage_follows_the_lead_lifecycle_stage():
    lead = LeadFactory(industry="", stage=LifecycleStage.OPPORTUNITY)
    decision = item(title="Decision", funnel_stage=FunnelStage.DECISION)
    awareness = item(title="Awareness", funnel_stage=FunnelStage.AWARENESS)

    result = collateral_suggestions(lead=lead)

    assert result[0].collateral == decision
    assert "For the decision stage" in result[0].reasons
    assert result[0].score > next(s.score for s in result if s.collateral == awareness)


def test_archived_expired_and_empty_items_are_never_suggested():
    lead = LeadFactory()
    item(title="Archived", is_archived=True, objection_categories=["price"])
    item(
        title="Expired",
        expires_on=timezone.localdate() - datetime.timedelta(days=1),
        objection_categories=["price"],
    )
    item(title="Nothing to hand out", url="", objection_categories=["price"])
    today = item(title="Expires today", expires_on=timezone.localdate(), objection_categories=["price"])

    result = collateral_suggestions(lead=lead, objection_categories=["price"])

    assert [s.collateral for s in result] == [today]


def test_a_file_item_with_a_current_version_is_suggested():
    lead = LeadFactory()
    file_item = item(url="", objection_categories=["trust"])
    version = CollateralVersionFactory(collateral=file_item)
    file_item.current_version = version
    file_item.save()

    assert [s.collateral for s in collateral_suggestions(lead=lead, objection_categories=["trust"])] == [file_item]


def test_items_approved_only_for_other_segments_are_left_out_and_matching_ones_say_so():
    lead = LeadFactory(industry="software")
    software = SegmentFactory(name="Software", definition={"field": "industry", "op": "eq", "value": "software"})
    retail = SegmentFactory(name="Retail", definition={"field": "industry", "op": "eq", "value": "retail"})
    approved = item(title="For software")
    approved.approved_segments.set([software])
    elsewhere = item(title="For retail")
    elsewhere.approved_segments.set([retail])

    result = collateral_suggestions(lead=lead)

    assert [s.collateral for s in result] == [approved]
    assert "Approved for Software" in result[0].reasons


def test_limit_and_unknown_objections(django_assert_max_num_queries):
    lead = LeadFactory()
    for n in range(8):
        item(title=f"Item {n}", objection_categories=["price"])

    with django_assert_max_num_queries(3):
        result = collateral_suggestions(lead=lead, objection_categories=["price", "not-a-category"], limit=3)

    assert len(result) == 3
    assert all(s.score > 0 for s in result)


def test_no_matching_items_gives_an_empty_list():
    lead = LeadFactory(industry="software")
    item(industries=["mining"])

    assert collateral_suggestions(lead=lead) == []


def test_query_count_does_not_grow_with_the_library(django_assert_num_queries):
    lead = LeadFactory(industry="software")
    segment = SegmentFactory(definition={"field": "industry", "op": "eq", "value": "software"})
    for n in range(3):
        item(title=f"A{n}").approved_segments.set([segment])
    with django_assert_num_queries(3):
        collateral_suggestions(lead=lead)
    for n in range(10):
        item(title=f"B{n}").approved_segments.set([SegmentFactory()])
    with django_assert_num_queries(3):
        collateral_suggestions(lead=lead)


def test_engagement_conditions_and_broken_segments_in_approvals():
    from tests.leads.factories import EngagementEventFactory

    engaged, idle = LeadFactory(), LeadFactory()
    EngagementEventFactory(lead=engaged, kind="webinar")
    webinar_goers = SegmentFactory(
        definition={"field": "engagement", "op": "at_least", "value": {"kind": "webinar", "count": 1, "days": 30}}
    )
    broken = SegmentFactory(definition={"field": "no_such_field", "op": "eq", "value": 1})
    for_goers = item(title="For webinar goers")
    for_goers.approved_segments.set([webinar_goers, broken])

    assert [s.collateral for s in collateral_suggestions(lead=engaged)] == [for_goers]
    assert collateral_suggestions(lead=idle) == []
