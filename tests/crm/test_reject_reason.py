"""Issue 21 item 4: sending a lead back needs a reason the rep chose; nothing is preselected
and the server refuses a missing reason on every path (page, service, API)."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.models import AssignmentStatus
from crm.services.handoff import assignment_reject
from tests.crm.sales_fixtures import assigned_lead

pytestmark = pytest.mark.django_db


def _reason_select(html: str) -> str:
    match = re.search(r'<select name="reason"[^>]*>(.*?)</select>', html, re.S)
    assert match, "the reject form has a reason select"
    return match.group(0)


def test_the_reject_form_preselects_no_reason(client_for, rep):
    assignment = assigned_lead(rep)
    html = client_for(rep).get(reverse("crm:lead-detail", args=[assignment.lead_id])).content.decode()

    select = _reason_select(html)
    options = re.findall(r'<option value="([^"]*)"([^>]*)>', select)
    assert options[0][0] == "", "the first option is an empty placeholder, so the browser shows no reason chosen"
    assert [value for value, attrs in options if "selected" in attrs] in ([], [""])
    assert " required" in select.split(">")[0]


def test_posting_the_reject_form_without_a_reason_is_refused_with_a_field_error(client_for, rep):
    assignment = assigned_lead(rep)
    response = client_for(rep).post(reverse("crm:lead-reject", args=[assignment.lead_id]), {"note": ""})

    assert response.status_code == 400
    assert "Choose why you are sending the lead back." in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ASSIGNED


@pytest.mark.parametrize("reason", ["", None])
def test_the_service_refuses_a_missing_reason_naming_the_field(rep, reason):
    assignment = assigned_lead(rep)
    with pytest.raises(ValidationError) as exc:
        assignment_reject(assignment_id=assignment.pk, reason=reason, actor=rep)

    assert exc.value.message_dict == {"reason": ["Choose why you are sending the lead back."]}


def test_the_api_refuses_a_reject_without_a_reason(api_for, rep):
    assignment = assigned_lead(rep)
    response = api_for(rep).post(f"/api/assignments/{assignment.pk}/reject/", {"note": "x"}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ASSIGNED
