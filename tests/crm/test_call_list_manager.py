"""A manager's /calls/: the team (open load, overdue SLAs, next calls), a drill-down into one
rep's list read as the manager, and a reassign from there."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.models import Assignment, AssignmentStatus, FollowUpKind, Notification
from tests.crm.factories import FollowUpFactory
from tests.crm.sales_fixtures import assigned_lead

pytestmark = pytest.mark.django_db


def _ago(**kw):
    return timezone.now() - datetime.timedelta(**kw)


def _ahead(**kw):
    return timezone.now() + datetime.timedelta(**kw)


def _book(rep, n, *, overdue=0):
    for i in range(n):
        due = _ago(minutes=10 + i) if i < overdue else _ahead(hours=1, minutes=i)
        assigned_lead(rep, first_name=f"{rep.username}-{i}", last_name="Lead", assignment={"sla_due_at": due})


def test_a_manager_sees_each_reps_open_load_overdue_slas_and_next_calls(client_for, manager, rep, other_rep):
    _book(rep, 3, overdue=2)
    _book(other_rep, 1)
    callback = assigned_lead(rep, first_name="Cal", last_name="Back", assignment={"first_touch_at": _ago(days=1)})
    FollowUpFactory(rep=rep, lead=callback.lead, kind=FollowUpKind.CALLBACK, due_at=_ago(minutes=1))
    closed = assigned_lead(
        rep, first_name="Gone", status=AssignmentStatus.REJECTED, assignment={"rejected_reason": "bad_data"}
    )

    response = client_for(manager).get("/calls/")

    html = response.content.decode()
    assert response.status_code == 200 and "The team's calls" in html
    rows = {r.rep.pk: r for r in response.context["rows"]}
    assert (rows[rep.pk].open_load, rows[rep.pk].overdue, rows[rep.pk].callbacks_due) == (4, 2, 1)
    assert (rows[other_rep.pk].open_load, rows[other_rep.pk].overdue) == (1, 0)
    # Next calls: the three earliest (two overdue first touches, the late callback), earliest first.
    names = [c.name for c in rows[rep.pk].next_calls]
    assert names == ["rep_a-1 Lead", "rep_a-0 Lead", "Cal Back"]
    assert closed.lead.first_name not in html
    assert reverse("crm:rep-call-list", args=[rep.pk]) in html


@pytest.mark.parametrize("reps_and_leads", [(1, 1), (6, 5)])
def test_the_team_page_runs_a_constant_number_of_queries(
    client_for, manager, make_user, django_assert_num_queries, reps_and_leads
):
    reps, leads = reps_and_leads
    for i in range(reps):
        user = make_user("Sales rep", username=f"team_{i}")
        _book(user, leads, overdue=1)
        FollowUpFactory(rep=user, lead=Assignment.objects.filter(rep=user).first().lead, due_at=_ahead(hours=2))
    client = client_for(manager)
    # session, user, roles, the reps with their counts, first touches due, follow-ups due
    with django_assert_num_queries(6):
        response = client.get("/calls/")
    assert response.status_code == 200 and len(response.context["rows"]) == reps


def test_the_old_rep_link_opens_the_drill_down(client_for, manager, rep):
    response = client_for(manager).get(f"/calls/?rep={rep.pk}")
    assert response.status_code == 302 and response["Location"] == reverse("crm:rep-call-list", args=[rep.pk])


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "-1", "0"])
def test_a_bad_rep_choice_shows_the_team_not_an_error(client_for, manager, value):
    response = client_for(manager).get(f"/calls/?rep={value}")
    assert response.status_code == 200 and "The team's calls" in response.content.decode()


def test_the_drill_down_shows_the_reps_list_as_they_see_it_and_no_one_elses(client_for, manager, rep, other_rep):
    _book(rep, 2, overdue=1)
    assigned_lead(other_rep, first_name="Otto")

    response = client_for(manager).get(reverse("crm:rep-call-list", args=[rep.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("rep_a-0 Lead") < html.index("rep_a-1 Lead")  # overdue first, as the rep sees it
    assert "Otto" not in html
    assert f'<option value="{other_rep.pk}">' in html and f'<option value="{rep.pk}">' not in html


@pytest.mark.parametrize("rows", [1, 12])
def test_the_drill_down_runs_a_constant_number_of_queries(client_for, manager, rep, django_assert_num_queries, rows):
    _book(rep, rows)
    client = client_for(manager)
    # session, user, roles, the rep, the ranked assignments, the check-ins, the other reps
    # (+ on PostgreSQL: SAVEPOINT, SET LOCAL, RELEASE around the call list)
    with django_assert_num_queries(7 + (3 if connection.vendor == "postgresql" else 0)):
        response = client.get(reverse("crm:rep-call-list", args=[rep.pk]))
    assert response.content.decode().count('class="lead-link"') == rows


def test_a_rep_cannot_open_another_reps_drill_down(client_for, rep, other_rep):
    assigned_lead(other_rep, first_name="Otto")
    response = client_for(rep).get(reverse("crm:rep-call-list", args=[other_rep.pk]))
    assert response.status_code == 404 and b"Otto" not in response.content


def test_a_rep_opening_their_own_drill_down_lands_on_their_list(client_for, rep):
    response = client_for(rep).get(reverse("crm:rep-call-list", args=[rep.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("crm:call-list")


def test_a_rep_still_sees_only_their_own_list_on_calls(client_for, rep, other_rep):
    mine = assigned_lead(rep, first_name="Rita")
    assigned_lead(other_rep, first_name="Otto")
    response = client_for(rep).get(f"/calls/?rep={other_rep.pk}")
    html = response.content.decode()
    assert response.status_code == 200 and "Your call list" in html
    assert mine.lead.first_name in html and "Otto" not in html and "The team" not in html


def test_marketing_gets_403_on_the_team_the_drill_down_and_the_reassign(client_for, marketer, rep):
    client = client_for(marketer)
    assert client.get("/calls/").status_code == 403
    assert client.get(reverse("crm:rep-call-list", args=[rep.pk])).status_code == 403
    assert client.post(reverse("crm:rep-reassign", args=[rep.pk]), {}).status_code == 403


def test_anonymous_is_sent_to_log_in(client, rep):
    for response in (
        client.get(reverse("crm:rep-call-list", args=[rep.pk])),
        client.post(reverse("crm:rep-reassign", args=[rep.pk]), {}),
    ):
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_unknown_rep_is_404_for_a_manager(client_for, manager, marketer):
    client = client_for(manager)
    assert client.get(reverse("crm:rep-call-list", args=[987654])).status_code == 404
    assert client.get(reverse("crm:rep-call-list", args=[marketer.pk])).status_code == 404


def test_a_manager_reassigns_from_the_drill_down(client_for, manager, rep, other_rep):
    assignment = assigned_lead(rep, first_name="Vera", last_name="Teixeira")

    response = client_for(manager).post(
        reverse("crm:rep-reassign", args=[rep.pk]), {"assignment": assignment.pk, "to_rep": other_rep.pk}
    )

    assert response.status_code == 302 and response["Location"] == reverse("crm:rep-call-list", args=[rep.pk])
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.REASSIGNED
    new = Assignment.objects.active().get(lead=assignment.lead)
    assert new.rep == other_rep and new.previous_id == assignment.pk
    assert Notification.objects.filter(user=other_rep, kind="assignment").exists()
    assert Notification.objects.filter(user=rep, kind="assignment_reassigned_away").exists()


def test_a_rep_cannot_reassign(client_for, rep, other_rep):
    assignment = assigned_lead(other_rep)
    response = client_for(rep).post(
        reverse("crm:rep-reassign", args=[other_rep.pk]), {"assignment": assignment.pk, "to_rep": rep.pk}
    )
    assert response.status_code == 404
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.ASSIGNED


@pytest.mark.parametrize(
    "post, message",
    [
        ({"to_rep": ""}, "Choose the rep"),
        ({"to_rep": "abc"}, "is not an active sales rep"),
        ({"to_rep": "SELF"}, "already assigned to rep_a"),
        ({"assignment": "OTHER"}, "no longer in this rep"),
    ],
)
def test_bad_reassign_input_is_a_field_error_on_the_page(client_for, manager, rep, other_rep, post, message):
    mine = assigned_lead(rep, first_name="Mine")
    theirs = assigned_lead(other_rep)
    data = {"assignment": mine.pk, "to_rep": other_rep.pk, **post}
    data = {k: {"SELF": rep.pk, "OTHER": theirs.pk}.get(v, v) for k, v in data.items()}

    response = client_for(manager).post(reverse("crm:rep-reassign", args=[rep.pk]), data)

    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Assignment.objects.get(pk=mine.pk).status == AssignmentStatus.ASSIGNED


@pytest.mark.parametrize("value", ["", "x", "-3", str(2**64)])
def test_a_bad_assignment_id_is_a_400(client_for, manager, rep, value):
    response = client_for(manager).post(
        reverse("crm:rep-reassign", args=[rep.pk]), {"assignment": value, "to_rep": "1"}
    )
    assert response.status_code == 400 and b"assignment" in response.content
