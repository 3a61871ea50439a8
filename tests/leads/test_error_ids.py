"""Errors never repeat the internal id of a lead."""

import pytest

from leads.lifecycle import IllegalTransition, lead_transition
from leads.models import LifecycleStage
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_an_illegal_move_names_the_stages_not_the_lead_id():
    lead = LeadFactory(stage=LifecycleStage.NEW)

    with pytest.raises(IllegalTransition) as error:
        lead_transition(lead_id=lead.pk, to_stage=LifecycleStage.CUSTOMER)

    message = " ".join(error.value.messages)
    assert message.startswith("Cannot move this lead from New to Customer")
    assert str(lead.pk) not in message
