"""Erasure: a manager erases a person; personal fields and free text go everywhere, the rows
the reports count stay (anonymised), one audit row without personal data remains."""

import json
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns.models import CollateralShare, CollateralView, CustomerFeedback
from crm.models import Assignment, Call, Contact, Deal, EmailOutbox, Notification, ObjectionNote
from leads.models import ConsentRecord, EngagementEvent, Lead, LeadTransition
from privacy.models import ErasureAudit
from privacy.services import ConfirmationNeeded, person_erase
from reports.selectors import REPORTS
from tests.privacy.people import EMAIL, NAME, PHONE, person_everywhere

pytestmark = pytest.mark.django_db
TERMS = (NAME[0], NAME[1], EMAIL, PHONE, "wq@")


def _dump_rows() -> str:
    """Every text column of every row that can be about a person, as one string."""
    parts = []
    for model in (
        Lead,
        ConsentRecord,
        EngagementEvent,
        LeadTransition,
        Contact,
        Call,
        ObjectionNote,
        Assignment,
        Deal,
        Notification,
        EmailOutbox,
        CustomerFeedback,
        CollateralView,
        CollateralShare,
        ErasureAudit,
    ):
        parts.append(json.dumps(list(model.objects.values()), default=str))
    return "\n".join(parts)


def _found(text: str) -> list[str]:
    return [t for t in TERMS if t.lower() in text.lower()]


def test_an_erasure_removes_the_person_from_every_row_and_keeps_one_audit(manager, rep):
    lead = person_everywhere(rep)
    EmailOutbox.objects.create(
        notification=Notification.objects.filter(url__contains=f"/leads/{lead.pk}/").first(),
        to_email="rep@baton.example",
        subject=f"New lead {NAME[0]} {NAME[1]}",
        body=f"Call {NAME[0]} on {PHONE}",
        created_at=lead.created_at,
        next_attempt_at=lead.created_at,
    )
    counts_before = {m.__name__: m.objects.count() for m in (Lead, Call, ObjectionNote, EngagementEvent, Deal)}
    assert _found(_dump_rows())

    audit = person_erase(lead_id=lead.pk, actor=manager)

    assert _found(_dump_rows()) == []
    assert {m.__name__: m.objects.count() for m in (Lead, Call, ObjectionNote, EngagementEvent, Deal)} == counts_before
    lead.refresh_from_db()
    assert lead.email == f"erased-{lead.pk}@erased.invalid" and lead.erased_at is not None
    assert (lead.do_not_contact, lead.do_not_call, lead.email_opt_in) == (True, True, False)
    assert ErasureAudit.objects.get() == audit
    assert (audit.lead_id, audit.erased_by, audit.reason, audit.had_open_deal) == (lead.pk, manager, "request", False)
    assert audit.rows_changed["calls"] == 1 and audit.rows_changed["objections"] == 1
    assert Deal.objects.get().name == "Quarry GmbH – [erased]"
    assert Call.objects.get().duration_seconds == 120 and ObjectionNote.objects.get().category == "price"


def test_the_person_cannot_be_found_again_through_api_search_or_exports(client_for, api_for, manager, rep, marketer):
    lead = person_everywhere(rep)
    assert f"/leads/{lead.pk}/" in client_for(manager).get("/search/", {"q": NAME[1]}).content.decode()
    person_erase(lead_id=lead.pk, actor=manager)

    api = api_for(marketer)
    for term in (NAME[1], EMAIL, "5550123"):
        assert api.get("/api/leads/", {"search": term}).json()["results"] == [], term
        assert "Nobody matches" in client_for(manager).get("/privacy/", {"q": term}).content.decode()
        groups = api_for(manager).get("/api/search/", {"q": term}).json()["groups"]
        assert not _found(json.dumps(groups)), term
        page = client_for(manager).get("/search/", {"q": term}).content.decode()
        assert f"/leads/{lead.pk}/" not in page, term
    assert not _found(json.dumps(api.get(f"/api/leads/{lead.pk}/").json()))
    assert not _found(client_for(manager).get(f"/privacy/leads/{lead.pk}/export.json").content.decode())
    assert not _found(client_for(rep).get(f"/calls/leads/{lead.pk}/").content.decode())
    assert not _found(json.dumps(api_for(rep).get("/api/calls/").json()))


def _numbers(value) -> list:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, float):  # ages and rates move with the clock between the two reads
        return [round(value, 1)]
    if isinstance(value, str):
        return [value] if re.fullmatch(r"-?[\d,.]+%?", value) else []
    if isinstance(value, dict):
        return [n for k in sorted(value) for n in _numbers(value[k])]
    if isinstance(value, list):
        return [n for item in value for n in _numbers(item)]
    return []


def test_report_totals_are_the_same_before_and_after_an_erasure(api_for, manager, rep):
    lead = person_everywhere(rep)
    person_everywhere.__globals__["EMAIL"] = "second@quarry.example"  # a second person, not erased
    try:
        person_everywhere(rep)
    finally:
        person_everywhere.__globals__["EMAIL"] = EMAIL
    api = api_for(manager)
    before = {name: api.get(f"/api/reports/{name}/").json() for name in REPORTS}
    assert all(not body.get("error") for body in before.values()), before

    person_erase(lead_id=lead.pk, actor=manager)

    after = {name: api.get(f"/api/reports/{name}/").json() for name in REPORTS}
    for name in REPORTS:
        assert _numbers(after[name]) == _numbers(before[name]), name
    assert any(_numbers(body) for body in before.values())


def test_an_open_deal_needs_confirmation(client_for, manager, rep):
    lead = person_everywhere(rep, deal_stage="proposal")
    client = client_for(manager)

    page = client.get(f"/privacy/leads/{lead.pk}/").content.decode()
    assert "1 open deal" in page and 'name="confirm_open_deal"' in page

    refused = client.post(f"/privacy/leads/{lead.pk}/erase/")
    assert refused.status_code == 409 and "open deal" in refused.content.decode()
    assert not ErasureAudit.objects.exists() and Lead.objects.get(pk=lead.pk).email == EMAIL

    done = client.post(f"/privacy/leads/{lead.pk}/erase/", {"confirm_open_deal": "yes"})
    assert done.status_code == 302
    audit = ErasureAudit.objects.get()
    assert audit.had_open_deal is True
    assert Deal.objects.get().stage == "proposal" and Deal.objects.get().amount == 5000


def test_the_service_refuses_without_confirmation_and_a_second_erasure(manager, rep):
    lead = person_everywhere(rep, deal_stage="negotiation")
    with pytest.raises(ConfirmationNeeded):
        person_erase(lead_id=lead.pk, actor=manager)
    person_erase(lead_id=lead.pk, actor=manager, confirm_open_deal=True)
    with pytest.raises(ValidationError, match="already erased"):
        person_erase(lead_id=lead.pk, actor=manager)
    assert ErasureAudit.objects.count() == 1


@pytest.mark.parametrize("role", ["rep", "other_rep", "marketer"])
def test_only_managers_erase(request, client_for, rep, role):
    lead = person_everywhere(rep)
    user = request.getfixturevalue(role)
    assert client_for(user).post(f"/privacy/leads/{lead.pk}/erase/").status_code == 403
    with pytest.raises(PermissionDenied):
        person_erase(lead_id=lead.pk, actor=user)
    assert Lead.objects.get(pk=lead.pk).email == EMAIL


def test_anonymous_erase_goes_to_login_and_a_missing_lead_is_404(client, client_for, manager, rep):
    lead = person_everywhere(rep)
    response = client.post(f"/privacy/leads/{lead.pk}/erase/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client_for(manager).post("/privacy/leads/987654/erase/").status_code == 404
    assert client_for(manager).post("/privacy/leads/99999999999999999999/erase/").status_code == 404


def test_other_people_keep_their_data(manager, rep):
    lead = person_everywhere(rep)
    from tests.leads.factories import LeadFactory

    other = LeadFactory(first_name="Wilhelmina", last_name="Other", email="w.other@else.example")
    person_erase(lead_id=lead.pk, actor=manager)
    other.refresh_from_db()
    assert (other.first_name, other.email) == ("Wilhelmina", "w.other@else.example")
