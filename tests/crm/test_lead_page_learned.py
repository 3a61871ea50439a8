"""Reps see the learned model's reasons on their lead page."""

import pytest

from crm.models import AssignmentStatus
from leads.learning.models import LearnedModel
from leads.learning.services import learned_model_train
from leads.models import Lead
from tests.crm.factories import AssignmentFactory
from tests.learning.factories import outcome_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_model():
    outcome_history(400, seed=11, signal=True)
    model = learned_model_train(actor=None)
    LearnedModel.objects.filter(pk=model.pk).update(is_active=True)
    return model


def test_a_rep_sees_why_the_learned_model_scores_their_lead(client_for, rep, active_model):
    lead = Lead.objects.filter(stage="customer").first()
    Lead.objects.filter(pk=lead.pk).update(stage="handed_off", owner=rep, learned_score=0.8)
    AssignmentFactory(lead=lead, rep=rep, status=AssignmentStatus.ASSIGNED)

    html = client_for(rep).get(f"/calls/leads/{lead.pk}/").content.decode()

    assert "What the learned model sees" in html
    assert 'id="learned-reasons"' in html
    assert ": +" in html or ": -" in html


def test_without_a_learned_score_the_section_is_absent(client_for, rep):
    assignment = AssignmentFactory(rep=rep, lead__owner=rep, lead__stage="handed_off")

    html = client_for(rep).get(f"/calls/leads/{assignment.lead_id}/").content.decode()

    assert "What the learned model sees" not in html


def test_the_lead_page_lists_the_strongest_reasons_two_field_tables_included(client_for, rep, active_model):
    from django.utils.html import escape

    from leads.api import learned_reasons_for_lead

    lead = next(
        lead
        for lead in Lead.objects.filter(stage="customer").order_by("pk")[:200]
        if any(r["pair"] for r in learned_reasons_for_lead(lead)[:6])
    )
    Lead.objects.filter(pk=lead.pk).update(stage="handed_off", owner=rep, learned_score=0.8)
    AssignmentFactory(lead=lead, rep=rep, status=AssignmentStatus.ASSIGNED)
    html = client_for(rep).get(f"/calls/leads/{lead.pk}/").content.decode()
    listed = html.split('id="learned-reasons">', 1)[1].split("</ul>", 1)[0]
    expected = [r["text"] for r in learned_reasons_for_lead(lead)[:6]]
    assert listed == "".join(f"<li>{escape(text)}</li>" for text in expected)
    assert " x " in listed
