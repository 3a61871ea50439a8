"""A marketer works the lead list in Chromium: filters, a saved view, a bulk action, the next
page, and a lead's page where editing a field re-scores it."""

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from tests.leads.factories import LeadFactory, ScoringRuleFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_marketer_filters_saves_a_view_disqualifies_and_edits_a_lead(make_user, login, live_server, artifacts_dir):
    make_user("Marketing", username="maya", password="pw", is_staff=True)
    ScoringRuleFactory(name="Finance", field="industry", operator="eq", value="finance", points=25)
    for i in range(55):
        LeadFactory(industry="retail", stage="new", company=f"Shop {i}")
    LeadFactory(first_name="Bad", last_name="Data", stage="engaged", industry="retail")
    page = login("maya")
    page.goto(f"{live_server.url}/marketing/leads/")
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    expect(page.get_by_text("50 leads on this page")).to_be_visible()
    page.get_by_role("link", name="Next page →").click()
    expect(page.get_by_text("6 leads on this page")).to_be_visible()

    page.get_by_label("Stage").select_option("engaged")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("1 lead on this page")).to_be_visible()
    page.get_by_label("Save these filters as").fill("Engaged")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("link", name="Engaged")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "marketing-leads.png"), full_page=True)

    page.get_by_label("Choose").first.check()
    page.get_by_label("With the chosen leads").select_option("disqualify")
    page.get_by_label("Reason").select_option("bad_data")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".messages")).to_contain_text("Disqualified 1 lead.")
    assert Lead.objects.get(first_name="Bad").stage == "disqualified"

    lead = Lead.objects.filter(company="Shop 3").get()
    page.goto(f"{live_server.url}/marketing/leads/{lead.pk}/")
    page.get_by_label("Industry").fill("finance")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Score 0 -> 25.")
    expect(page.locator("#score-h + table")).to_contain_text("Finance")
    page.screenshot(path=str(artifacts_dir / "marketing-lead.png"), full_page=True)


def test_a_rep_cannot_open_the_lead_list(make_user, login, live_server):
    make_user("Sales rep", username="rita", password="pw")
    page = login("rita")
    assert page.goto(f"{live_server.url}/marketing/leads/").status == 403
    expect(page.get_by_role("link", name="Leads", exact=True)).to_have_count(0)


def test_a_marketer_withdraws_and_grants_consent_on_the_lead_page(make_user, login, live_server, artifacts_dir):
    from leads.consent import consents_record

    make_user("Marketing", username="maya", password="pw", is_staff=True)
    lead = LeadFactory(first_name="Cleo", last_name="Park", email_opt_in=True)
    consents_record(lead_id=lead.pk, changes=[("email_marketing", True)], source="form", evidence="Newsletter box")
    page = login("maya")
    page.goto(f"{live_server.url}/marketing/leads/{lead.pk}/")
    consent = page.locator("#consent")
    expect(consent).to_contain_text("Newsletter box")
    page.get_by_role("button", name="Withdraw consent to e-mail marketing").click()
    expect(page.locator(".messages")).to_contain_text("Consent withdrawn: e-mail marketing.")
    expect(consent.locator("tr", has_text="E-mail marketing")).to_contain_text("Withdrawn")
    assert Lead.objects.get(pk=lead.pk).email_opt_in is False

    page.get_by_role("button", name="Grant consent to e-mail marketing").click()  # no evidence yet
    assert Lead.objects.get(pk=lead.pk).email_opt_in is False  # the browser asks for it first
    consent.locator("#grant-email_marketing").fill("Asked to be re-subscribed by e-mail")
    page.get_by_role("button", name="Grant consent to e-mail marketing").click()
    expect(page.locator(".messages")).to_contain_text("Consent granted: e-mail marketing.")
    expect(consent.locator("tr", has_text="E-mail marketing")).to_contain_text("Marketer (maya)")
    assert Lead.objects.get(pk=lead.pk).email_opt_in is True
    consent.screenshot(path=str(artifacts_dir / "marketing-lead-consent.png"))
