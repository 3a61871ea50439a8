"""Issue 21 item 2: once a lead is moved to another rep, the old rep loses it on every path
(pages, API, search, exports), whichever way the move was made: the manager's admin form,
the reassign service (API), or the SLA check. Errors never show internal ids."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.admin import AssignmentAdmin
from crm.models import Assignment, AssignmentStatus, SlaAction
from crm.services.handoff import assignment_accept, assignment_reassign, sla_check
from leads.models import Lead
from tests.crm.factories import QueueMembershipFactory, SalesQueueFactory
from tests.crm.sales_fixtures import assigned_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    return SalesQueueFactory(
        name="Inbound",
        sla_action=SlaAction.REASSIGN,
        business_days=[0, 1, 2, 3, 4, 5, 6],
        business_hours_start=datetime.time(0, 0),
        business_hours_end=datetime.time(23, 59),
    )


@pytest.fixture
def held(queue, rep, other_rep):
    """A lead handed to ``rep`` (the old rep) with contact details; ``other_rep`` is in the queue."""
    QueueMembershipFactory(queue=queue, rep=rep)
    QueueMembershipFactory(queue=queue, rep=other_rep)
    return assigned_lead(
        rep,
        queue=queue,
        first_name="Zelda",
        last_name="Quarrington",
        email="zelda@quarry.example",
        phone="+44 20 7946 0000",
    )


def _admin_post_data(assignment, rep_id, manager):
    """The admin change form exactly as the page would post it, with a new rep."""
    from django.contrib import admin
    from django.test import RequestFactory

    model_admin = AssignmentAdmin(Assignment, admin.site)
    request = RequestFactory().get("/")
    request.user = manager
    form = model_admin.get_form(request, assignment)(instance=assignment)
    data = {}
    for name, bound in form.fields.items():
        value = form[name].value()
        if isinstance(value, datetime.datetime):
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")
        elif value is not None:
            data[name] = value
    data["reassign_to"] = rep_id  # the admin's reassign field (the rep column itself is read-only)
    return data


def reassign_in_admin(client, manager, assignment, new_rep):
    client.force_login(manager)
    url = reverse("admin:crm_assignment_change", args=[assignment.pk])
    response = client.post(url, _admin_post_data(assignment, new_rep.pk, manager))
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()


def reassign_by_service(client, manager, assignment, new_rep):
    assignment_reassign(assignment_id=assignment.pk, rep_id=new_rep.pk, actor=manager)


def reassign_by_api(client, manager, assignment, new_rep):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(manager)
    response = api.post(f"/api/assignments/{assignment.pk}/reassign/", {"rep_id": new_rep.pk}, format="json")
    assert response.status_code == 200, response.content


def reassign_by_sla(client, manager, assignment, new_rep):
    Assignment.objects.filter(pk=assignment.pk).update(sla_due_at=timezone.now() - datetime.timedelta(minutes=5))
    assert sla_check() == 1


PATHS = [reassign_in_admin, reassign_by_service, reassign_by_api, reassign_by_sla]


@pytest.mark.parametrize("reassign", PATHS, ids=lambda f: f.__name__)
def test_after_a_reassignment_the_old_rep_loses_the_lead_everywhere(reassign, held, rep, other_rep, manager, client):
    lead = held.lead
    reassign(client, manager, held, other_rep)

    active = Assignment.objects.active().get(lead=lead)
    assert active.rep == other_rep
    assert Lead.objects.get(pk=lead.pk).owner == other_rep

    client.force_login(rep)
    page = reverse("crm:lead-detail", kwargs={"lead_id": lead.pk})
    assert client.get(page).status_code == 404
    assert client.post(reverse("crm:lead-accept", kwargs={"lead_id": lead.pk})).status_code == 404
    call_list = client.get(reverse("crm:call-list")).content.decode()
    assert "Quarrington" not in call_list and "zelda@quarry" not in call_list

    assert client.get(f"/api/leads/{lead.pk}/").status_code == 404
    for url in ("/api/leads/?search=Quarrington", "/api/assignments/", "/api/call-list/"):
        body = client.get(url).content.decode()
        assert "Quarrington" not in body and "zelda@quarry" not in body, url
    assert client.get(f"/api/assignments/{held.pk}/").status_code == 404
    assert client.get("/api/reports/handoff/").status_code == 403

    client.force_login(other_rep)
    new_page = client.get(page)
    assert new_page.status_code == 200
    assert "Quarrington" in new_page.content.decode()


def test_an_admin_edit_that_only_moves_the_rep_column_still_hides_the_lead_from_the_old_rep(
    held, rep, other_rep, client
):
    """Visibility follows the active assignment even when ``owner`` was left behind (a row
    edited outside the services)."""
    Assignment.objects.filter(pk=held.pk).update(rep=other_rep)

    client.force_login(rep)
    assert client.get(reverse("crm:lead-detail", kwargs={"lead_id": held.lead_id})).status_code == 404
    client.force_login(other_rep)
    assert client.get(reverse("crm:lead-detail", kwargs={"lead_id": held.lead_id})).status_code == 200


def test_the_admin_reassignment_tells_both_reps_and_keeps_a_trail(held, rep, other_rep, manager, client):
    reassign_in_admin(client, manager, held, other_rep)

    held.refresh_from_db()
    assert held.status == AssignmentStatus.REASSIGNED
    new = Assignment.objects.active().get(lead=held.lead)
    assert new.previous_id == held.pk
    assert rep.notifications.filter(kind="assignment_reassigned_away").exists()
    assert other_rep.notifications.filter(kind="assignment").exists()


def test_an_error_about_someone_elses_assignment_shows_no_internal_id(held, other_rep):
    with pytest.raises(ValidationError) as exc:
        assignment_accept(assignment_id=held.pk, actor=other_rep)

    text = " ".join(exc.value.messages)
    assert not re.search(r"\d", text), text
