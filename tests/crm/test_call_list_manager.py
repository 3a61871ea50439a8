"""A manager has no list of their own: they pick a rep and see that rep's list."""

import pytest

from crm.models import AssignmentStatus
from tests.crm.factories import AssignmentFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_a_manager_is_asked_to_choose_a_rep(client_for, manager, rep):
    html = client_for(manager).get("/calls/").content.decode()

    assert "Choose a rep" in html
    assert f'<option value="{rep.pk}"' in html


def test_a_manager_sees_the_chosen_reps_list_and_no_one_elses(client_for, manager, rep, other_rep):
    mine = AssignmentFactory(
        rep=rep, lead=LeadFactory(owner=rep, stage="handed_off", first_name="Rita"), status=AssignmentStatus.ASSIGNED
    )
    AssignmentFactory(
        rep=other_rep,
        lead=LeadFactory(owner=other_rep, stage="handed_off", first_name="Otto"),
        status=AssignmentStatus.ASSIGNED,
    )

    html = client_for(manager).get(f"/calls/?rep={rep.pk}").content.decode()

    assert f"{rep.username}&#x27;s call list" in html or f"{rep.username}'s call list" in html
    assert mine.lead.full_name in html
    assert "Otto" not in html


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "-1"])
def test_a_bad_rep_choice_shows_the_picker_not_an_error(client_for, manager, value):
    response = client_for(manager).get(f"/calls/?rep={value}")

    assert response.status_code == 200
    assert "Choose a rep" in response.content.decode()


def test_a_rep_cannot_look_at_another_reps_list(client_for, rep, other_rep):
    AssignmentFactory(
        rep=other_rep,
        lead=LeadFactory(owner=other_rep, stage="handed_off", first_name="Otto"),
        status=AssignmentStatus.ASSIGNED,
    )

    html = client_for(rep).get(f"/calls/?rep={other_rep.pk}").content.decode()

    assert "Otto" not in html
    assert "Your call list" in html
