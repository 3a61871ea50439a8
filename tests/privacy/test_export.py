"""Subject access: a manager finds a person and exports everything Baton holds about them as a
JSON file and a readable page; nobody else can."""

import json

import pytest

from tests.leads.factories import LeadFactory
from tests.privacy.people import EMAIL, NAME, PHONE, person_everywhere

pytestmark = pytest.mark.django_db

SECTIONS = (
    "lead",
    "consents",
    "events",
    "transitions",
    "campaign_memberships",
    "collateral_shares",
    "feedback",
    "contacts",
    "assignments",
    "calls",
    "objections",
    "follow_ups",
    "deals",
)


def test_the_json_export_holds_every_kind_of_row_about_the_person(client_for, manager, rep):
    lead = person_everywhere(rep)
    LeadFactory(first_name="Someone", last_name="Else")

    response = client_for(manager).get(f"/privacy/leads/{lead.pk}/export.json")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="baton-subject-access-lead-{lead.pk}.json"'
    data = json.loads(response.content)
    assert data["format"] == "baton.subject-access/1" and data["generated_by"] == "manager"
    assert all(data[key] for key in SECTIONS), [key for key in SECTIONS if not data[key]]
    assert data["lead"]["email"] == EMAIL and data["lead"]["phone"] == PHONE
    assert data["consents"][0]["evidence"] == "Newsletter v2"
    assert data["calls"][0]["notes"].startswith("Spoke with Wilhelmina")
    assert data["objections"][0]["said"] == "Wilhelmina says the price is too high"
    assert data["collateral_shares"][0]["views"][0]["user_agent"] == "Mozilla/5.0 (Wilhelmina's Mac)"
    assert data["feedback"][0]["comment"] == "Wilhelmina: great support 0"
    assert data["contacts"][0]["email"] == EMAIL
    assert data["assignments"][0]["rejected_note"] == "Wilhelmina wanted a call in March"
    assert data["deals"][0]["name"] == "Quarry GmbH – Quarrington"
    assert "Someone" not in response.content.decode()


def test_the_readable_page_shows_each_section_with_its_rows(client_for, manager, rep):
    lead = person_everywhere(rep)

    html = client_for(manager).get(f"/privacy/leads/{lead.pk}/").content.decode()

    assert f"{NAME[0]} {NAME[1]}" in html
    for heading in (
        "Consent records",
        "Engagement events",
        "Stage history",
        "Campaign memberships",
        "Calls",
        "Objections",
        "Feedback",
        "Deals",
        "Hand-offs to sales",
        "Collateral shared and viewed",
    ):
        assert heading in html
    assert "Wilhelmina says the price is too high" in html
    assert f'href="/privacy/leads/{lead.pk}/export.json"' in html
    assert "None." not in html.split("Follow-ups")[0].split("Consent records")[1]


def test_the_manager_finds_the_person_by_email_in_any_case_or_name(client_for, manager, rep):
    lead = person_everywhere(rep)
    LeadFactory(first_name="Other", email="other@else.example")
    client = client_for(manager)

    for term in (EMAIL.upper(), "quarrington", "Wilhelmina Q"):
        html = client.get("/privacy/", {"q": term}).content.decode()
        assert f'href="/privacy/leads/{lead.pk}/"' in html, term
        assert "other@else.example" not in html
    assert "Nobody matches" in client.get("/privacy/", {"q": "nobody-here"}).content.decode()


def test_bad_search_input_is_a_clear_400(client_for, manager):
    client = client_for(manager)
    too_long = client.get("/privacy/", {"q": "x" * 201})
    assert too_long.status_code == 400 and b"q: at most 200 characters" in too_long.content
    assert client.get("/privacy/", {"q": "a\x00b"}).status_code == 400


def test_a_missing_or_huge_lead_id_is_a_404(client_for, manager):
    client = client_for(manager)
    assert client.get("/privacy/leads/987654/").status_code == 404
    assert client.get("/privacy/leads/99999999999999999999/export.json").status_code == 404


@pytest.mark.parametrize("role", ["rep", "other_rep", "marketer"])
@pytest.mark.parametrize("page", ["/privacy/", "/privacy/leads/{id}/", "/privacy/leads/{id}/export.json"])
def test_only_managers_see_privacy_pages(request, client_for, rep, role, page):
    lead = person_everywhere(rep)
    response = client_for(request.getfixturevalue(role)).get(page.format(id=lead.pk), {"q": "Wilhelmina"})
    assert response.status_code == 403
    assert EMAIL not in response.content.decode()


@pytest.mark.parametrize("page", ["/privacy/", "/privacy/leads/{id}/", "/privacy/leads/{id}/export.json"])
def test_anonymous_visitors_are_sent_to_log_in(client, rep, page):
    lead = person_everywhere(rep)
    response = client.get(page.format(id=lead.pk))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_person_page_and_the_search_take_a_constant_number_of_queries(client_for, manager, rep, count_queries):
    one = person_everywhere(rep, copies=1)
    client = client_for(manager)
    client.get(f"/privacy/leads/{one.pk}/")
    client.get("/privacy/", {"q": "Quarrington"})  # warm: per-process caches (roles, content types)
    page_one = count_queries(lambda: client.get(f"/privacy/leads/{one.pk}/"))
    search_one = count_queries(lambda: client.get("/privacy/", {"q": "Quarrington"}))
    from leads.models import Lead

    Lead.objects.filter(pk=one.pk).update(email="moved@quarry.example")
    from tests.privacy import people

    people.EMAIL = "wq2@quarry.example"
    try:
        many = person_everywhere(rep, copies=4)
    finally:
        people.EMAIL = EMAIL
    assert count_queries(lambda: client.get(f"/privacy/leads/{many.pk}/")) == page_one
    assert count_queries(lambda: client.get("/privacy/", {"q": "Quarrington"})) == search_one
