"""Segment splits: a segment filter keeps the leads its rules select now."""

import pytest

from tests.campaigns.factories import CustomerFeedbackFactory
from tests.crm.factories import AssignmentFactory, CallFactory, ObjectionNoteFactory
from tests.leads.factories import LeadFactory, SegmentFactory
from tests.reports.conftest import rows_by, run


@pytest.fixture
def retail_segment():
    return SegmentFactory(name="Retail", definition={"all": [{"field": "industry", "op": "eq", "value": "retail"}]})


@pytest.mark.django_db
def test_the_segment_filter_narrows_the_hand_off_report(retail_segment, monday, period, rep):
    for industry in ("retail", "retail", "software"):
        AssignmentFactory(lead=LeadFactory(industry=industry), rep=rep, handed_off_at=monday)
    week = rows_by(run("handoff", **period, segment=retail_segment.pk).table("weekly"), "week")[monday.date()]
    assert week["handed_off"] == 2


@pytest.mark.django_db
def test_objections_break_down_by_segment(retail_segment, monday, period, rep):
    SegmentFactory(name="Software")  # the factory's default rule: industry = software
    for industry in ("retail", "software", "software"):
        lead = LeadFactory(industry=industry)
        ObjectionNoteFactory(call=CallFactory(rep=rep, lead=lead, called_at=monday), lead=lead, created_at=monday)
    cross = run("objections", **period, by="segment").table("by_dimension")
    labels = {c.key: c.label for c in cross.columns}
    price = rows_by(cross, "category")["Price"]
    assert {labels[k]: v for k, v in price.items() if k != "category"} == {"Retail": 1, "Software": 2}


@pytest.mark.django_db
def test_nps_by_segment(retail_segment, monday, period):
    CustomerFeedbackFactory(lead=LeadFactory(industry="retail"), rating=10, created_at=monday)
    CustomerFeedbackFactory(lead=LeadFactory(industry="retail"), rating=2, created_at=monday)
    CustomerFeedbackFactory(lead=LeadFactory(industry="software"), rating=10, created_at=monday)
    segments = rows_by(run("customer-experience", **period).table("segments"), "label")
    assert (segments["Retail"]["responses"], segments["Retail"]["nps"]) == (2, pytest.approx(0.0))
    filtered = run("customer-experience", **period, segment=retail_segment.pk).table("weekly")
    assert rows_by(filtered, "label")["All weeks"]["responses"] == 2
