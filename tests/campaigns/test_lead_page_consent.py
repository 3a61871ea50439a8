"""Consent on marketing's lead page (/marketing/leads/<id>/) and in the lead CSV export: the
marketer sees every purpose's latest record and withdraws or grants per purpose (source
marketer); the export reads consent as it runs."""

import csv
import io

import pytest

from leads.consent import consents_record
from leads.models import ConsentRecord, Lead
from leads.privacy import privacy_lead_erase
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def page(client, lead) -> str:
    return client.get(f"/marketing/leads/{lead.pk}/").content.decode()


def consent_section(html: str) -> str:
    return html[html.index('id="consent"') : html.index('id="sales-h"')]


def export(client, query: str = "") -> list[dict]:
    response = client.get(f"/marketing/leads/export/?{query}")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- the lead page -----------------------------------------------------------------------------


def test_the_lead_page_shows_each_purposes_latest_record(client_for, marketer, rep):
    lead = LeadFactory()
    consents_record(
        lead_id=lead.pk, changes=[("email_marketing", True)], source="form", evidence="Ticked the newsletter box"
    )
    consents_record(lead_id=lead.pk, changes=[("calls", False)], source="rep", actor=rep, evidence="Said no calls")
    section = consent_section(page(client_for(marketer), lead))
    assert "Calls" in section and "E-mail marketing" in section
    assert "Withdrawn" in section and "Granted" in section
    assert f"Sales rep ({rep.get_username()})" in section and "Web form" in section
    assert "Ticked the newsletter box" in section and "Said no calls" in section
    assert "No record" in section  # profiling has none
    # a withdrawn purpose offers a grant, a granted one a withdrawal
    assert f'action="/leads/{lead.pk}/consents/grant/"' in section
    assert f'action="/leads/{lead.pk}/consents/withdraw/"' in section
    assert f'value="/marketing/leads/{lead.pk}/#consent"' in section
    # calls (withdrawn) and profiling (no record yet) can be granted; e-mail (granted) cannot
    assert 'id="grant-calls"' in section and 'id="grant-profiling"' in section
    assert 'id="grant-email_marketing"' not in section


def test_a_marketer_withdraws_one_purpose_from_the_lead_page(client_for, marketer):
    lead = LeadFactory(email_opt_in=True)
    response = client_for(marketer).post(
        f"/leads/{lead.pk}/consents/withdraw/",
        {"purpose": "email_marketing", "note": "Replied 'stop'", "next": f"/marketing/leads/{lead.pk}/#consent"},
    )
    assert response.status_code == 302 and response["Location"] == f"/marketing/leads/{lead.pk}/#consent"
    record = ConsentRecord.objects.get(lead=lead)
    assert (record.purpose, record.granted, record.source, record.actor, record.evidence) == (
        "email_marketing",
        False,
        "marketer",
        marketer,
        "Replied 'stop'",
    )
    assert Lead.objects.get(pk=lead.pk).email_opt_in is False


def test_a_marketer_grants_a_purpose_with_evidence_and_the_flags_follow(client_for, marketer):
    lead = LeadFactory()
    consents_record(lead_id=lead.pk, changes=[("calls", False), ("email_marketing", False)], source="unsubscribe")
    assert Lead.objects.get(pk=lead.pk).do_not_contact is True
    response = client_for(marketer).post(
        f"/leads/{lead.pk}/consents/grant/",
        {"purpose": "calls", "note": "Asked for a call back by e-mail", "next": f"/marketing/leads/{lead.pk}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/marketing/leads/{lead.pk}/"
    latest = ConsentRecord.objects.filter(lead=lead).order_by("-id").first()
    assert (latest.purpose, latest.granted, latest.source, latest.actor, latest.evidence) == (
        "calls",
        True,
        "marketer",
        marketer,
        "Asked for a call back by e-mail",
    )
    refreshed = Lead.objects.get(pk=lead.pk)
    assert (refreshed.do_not_call, refreshed.do_not_contact, refreshed.email_opt_in) == (False, False, False)


def test_a_grant_without_evidence_is_refused_naming_the_field(client_for, marketer):
    lead = LeadFactory(do_not_call=True)
    c = client_for(marketer)
    response = c.post(
        f"/leads/{lead.pk}/consents/grant/", {"purpose": "calls", "note": "  ", "next": f"/marketing/leads/{lead.pk}/"}
    )
    assert response.status_code == 302
    assert not ConsentRecord.objects.exists() and Lead.objects.get(pk=lead.pk).do_not_call is True
    assert "Evidence: say how the person gave consent to calls" in c.get(response["Location"]).content.decode()


def test_a_grant_with_a_bad_purpose_is_a_400_naming_the_field(client_for, marketer):
    lead = LeadFactory()
    response = client_for(marketer).post(f"/leads/{lead.pk}/consents/grant/", {"purpose": "all", "note": "x"})
    assert response.status_code == 400 and b"purpose" in response.content
    assert not ConsentRecord.objects.exists()


def test_an_erased_person_gets_no_new_consent(client_for, marketer):
    lead = LeadFactory()
    privacy_lead_erase(lead.pk)
    c = client_for(marketer)
    assert 'consents/grant/"' not in consent_section(page(c, lead))
    c.post(f"/leads/{lead.pk}/consents/grant/", {"purpose": "calls", "note": "Said yes"})
    assert not ConsentRecord.objects.filter(granted=True).exists()
    assert Lead.objects.get(pk=lead.pk).do_not_call is True


@pytest.mark.parametrize("who, status", [("rep", 403), ("other_rep", 403), ("manager", 403), ("marketer", 302)])
def test_only_marketing_grants_consent(request, client_for, rep, who, status):
    lead = LeadFactory(owner=rep, stage="handed_off", do_not_call=True)
    response = client_for(request.getfixturevalue(who)).post(
        f"/leads/{lead.pk}/consents/grant/", {"purpose": "calls", "note": "Said yes on the phone"}
    )
    assert response.status_code == status
    assert ConsentRecord.objects.filter(lead=lead, granted=True).exists() is (status == 302)
    assert Lead.objects.get(pk=lead.pk).do_not_call is (status != 302)


def test_anonymous_grant_goes_to_login(client):
    lead = LeadFactory(do_not_call=True)
    response = client.post(f"/leads/{lead.pk}/consents/grant/", {"purpose": "calls", "note": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ConsentRecord.objects.exists()


def test_a_grant_on_a_missing_or_huge_lead_id_is_a_404(client_for, marketer):
    c = client_for(marketer)
    assert c.post("/leads/424242/consents/grant/", {"purpose": "calls", "note": "x"}).status_code == 404
    assert c.post(f"/leads/{2**63}/consents/grant/", {"purpose": "calls", "note": "x"}).status_code == 404


# --- the CSV export ----------------------------------------------------------------------------


def test_the_export_has_every_consent_flag_and_a_withdrawal_shows_at_once(client_for, marketer):
    lead = LeadFactory(email_opt_in=True)
    c = client_for(marketer)
    (row,) = export(c)
    assert (row["email_opt_in"], row["do_not_call"], row["do_not_contact"], row["do_not_profile"]) == (
        "True",
        "False",
        "False",
        "False",
    )
    consents_record(lead_id=lead.pk, changes=[("email_marketing", False), ("calls", False)], source="unsubscribe")
    (row,) = export(c)
    assert (row["email_opt_in"], row["do_not_call"], row["do_not_contact"]) == ("False", "True", "True")


def test_erased_people_are_never_exported(client_for, marketer):
    kept = LeadFactory(first_name="Kept")
    erased = LeadFactory(first_name="Gone")
    privacy_lead_erase(erased.pk)
    rows = export(client_for(marketer))
    assert [int(r["id"]) for r in rows] == [kept.pk]
    assert "erased.invalid" not in "".join(r["email"] for r in rows)


def test_an_email_audience_export_leaves_out_whoever_may_not_get_marketing_email(client_for, marketer):
    opted_in = LeadFactory(email_opt_in=True)
    LeadFactory(email_opt_in=False)
    withdrawn = LeadFactory(email_opt_in=True)
    LeadFactory(email_opt_in=True, do_not_contact=True)
    consents_record(lead_id=withdrawn.pk, changes=[("email_marketing", False)], source="unsubscribe")
    rows = export(client_for(marketer), "audience=email")
    assert [int(r["id"]) for r in rows] == [opted_in.pk]


def test_a_calls_audience_export_leaves_out_do_not_call_and_do_not_contact(client_for, marketer):
    callable_ = LeadFactory()
    LeadFactory(do_not_call=True)
    LeadFactory(do_not_contact=True)
    withdrawn = LeadFactory()
    consents_record(lead_id=withdrawn.pk, changes=[("calls", False)], source="rep")
    rows = export(client_for(marketer), "audience=calls")
    assert [int(r["id"]) for r in rows] == [callable_.pk]


def test_a_bad_audience_is_a_field_error(client_for, marketer):
    response = client_for(marketer).get("/marketing/leads/export/?audience=fax")
    assert response.status_code == 400 and "Reachable by:" in response.content.decode()


def test_the_list_filters_by_audience_with_constant_queries(client_for, marketer, count_queries):
    c = client_for(marketer)
    LeadFactory(email_opt_in=True)
    few = count_queries(lambda: c.get("/marketing/leads/?audience=email"))
    LeadFactory.create_batch(5, email_opt_in=True)
    LeadFactory.create_batch(3, email_opt_in=False)
    response = c.get("/marketing/leads/?audience=email")
    assert response.content.decode().count('name="lead" value=') == 6
    assert count_queries(lambda: c.get("/marketing/leads/?audience=email")) == few
