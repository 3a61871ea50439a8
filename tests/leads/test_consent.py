"""Consent records: flags derived from them, captured by forms, imports and the API, withdrawn
through the signed unsubscribe link and by a rep or marketer."""

import io

import pytest
from django.core import signing
from django.core.cache import cache

from leads.consent import consents_record, flags_from_consents, latest_consents, unsubscribe_token
from leads.imports import leads_import
from leads.models import CaptureForm, ConsentRecord, ConsentSource, Lead
from tests.leads.factories import LeadFactory
from tests.sent_tasks import task_sends

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker():
    cache.clear()
    with task_sends("leads.tasks.score_lead_task"):  # sends of every task are dropped
        yield
    cache.clear()


def flags(lead):
    lead.refresh_from_db()
    return {n: getattr(lead, n) for n in ("email_opt_in", "do_not_call", "do_not_contact", "do_not_profile")}


# --- derivation ------------------------------------------------------------------------------


def test_the_latest_record_per_purpose_decides_the_flags():
    lead = LeadFactory()
    consents_record(lead_id=lead.pk, changes=[("email_marketing", True), ("calls", True)], source="form")
    assert flags(lead) == {"email_opt_in": True, "do_not_call": False, "do_not_contact": False, "do_not_profile": False}

    consents_record(lead_id=lead.pk, changes=[("calls", False)], source="rep")
    assert flags(lead) == {"email_opt_in": True, "do_not_call": True, "do_not_contact": False, "do_not_profile": False}

    consents_record(lead_id=lead.pk, changes=[("email_marketing", False)], source="unsubscribe")
    assert flags(lead)["do_not_contact"] is True and flags(lead)["email_opt_in"] is False

    consents_record(lead_id=lead.pk, changes=[("email_marketing", True)], source="form")
    assert flags(lead) == {"email_opt_in": True, "do_not_call": True, "do_not_contact": False, "do_not_profile": False}


def test_a_purpose_without_records_leaves_its_flag_as_it_was():
    lead = LeadFactory(do_not_call=True, email_opt_in=True)
    consents_record(lead_id=lead.pk, changes=[("profiling", False)], source="api")
    assert flags(lead) == {"email_opt_in": True, "do_not_call": True, "do_not_contact": False, "do_not_profile": True}
    assert flags_from_consents(Lead.objects.get(pk=lead.pk), latest_consents(lead.pk)) == {}


def test_an_unknown_purpose_is_refused_naming_it():
    lead = LeadFactory()
    with pytest.raises(ValueError, match="'telepathy' is not a consent purpose"):
        consents_record(lead_id=lead.pk, changes=[("telepathy", True)], source="api")
    assert not ConsentRecord.objects.exists()


# --- capture by forms, imports and the API ----------------------------------------------------


def test_a_form_opt_in_is_recorded_with_the_forms_consent_text_as_evidence(client):
    CaptureForm.objects.create(key="demo", name="Demo", consent_text="Yes, e-mail me about Baton (v3).")
    response = client.post("/capture/demo/", {"email": "ana@acme.example", "first_name": "Ana", "email_opt_in": "yes"})
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(email="ana@acme.example")
    record = ConsentRecord.objects.get(lead=lead)
    assert (record.purpose, record.granted, record.source) == ("email_marketing", True, ConsentSource.FORM)
    assert record.evidence == "Yes, e-mail me about Baton (v3)."
    assert lead.email_opt_in is True


def test_a_form_never_clears_an_earlier_withdrawal(client):
    lead = LeadFactory(email="bo@beta.example")
    consents_record(lead_id=lead.pk, changes=[("calls", False)], source="rep")
    CaptureForm.objects.create(key="demo", name="Demo")
    client.post("/capture/demo/", {"email": "bo@beta.example", "do_not_call": "no", "do_not_profile": "yes"})
    assert flags(lead)["do_not_call"] is True
    assert flags(lead)["do_not_profile"] is True
    assert ConsentRecord.objects.filter(lead=lead, purpose="profiling", granted=False, source="form").exists()


def test_an_import_records_each_rows_consent_columns():
    data = (
        "email,first_name,email_opt_in,do_not_call\n"
        "ana@acme.example,Ana,yes,no\n"
        "bo@beta.example,Bo,no,yes\n"
        "cy@gamma.example,Cy,,\n"
    )
    report = leads_import(stream=io.BytesIO(data.encode()), dry_run=False)
    assert report.created == 3
    rows = set(ConsentRecord.objects.values_list("lead__email", "purpose", "granted", "source", "evidence"))
    assert rows == {
        ("ana@acme.example", "email_marketing", True, "import", "CSV import, row 2"),
        ("ana@acme.example", "calls", True, "import", "CSV import, row 2"),
        ("bo@beta.example", "email_marketing", False, "import", "CSV import, row 3"),
        ("bo@beta.example", "calls", False, "import", "CSV import, row 3"),
    }
    bo = Lead.objects.get(email="bo@beta.example")
    assert flags(bo) == {"email_opt_in": False, "do_not_call": True, "do_not_contact": True, "do_not_profile": False}
    assert flags_from_consents(bo, latest_consents(bo.pk)) == {}


def test_an_event_that_creates_a_lead_records_its_opt_in_with_source_api(api_for, marketer):
    response = api_for(marketer).post(
        "/api/events/",
        {"email": "dee@delta.example", "kind": "page_view", "lead_fields": {"company": "Delta", "email_opt_in": True}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    record = ConsentRecord.objects.get(lead__email="dee@delta.example")
    assert (record.purpose, record.granted, record.source) == ("email_marketing", True, "api")


# --- /api/leads/<id>/consents/ ---------------------------------------------------------------


def test_the_api_lists_records_and_flags_and_records_a_withdrawal(api_for, marketer):
    lead = LeadFactory(email_opt_in=True)
    api = api_for(marketer)
    response = api.post(
        f"/api/leads/{lead.pk}/consents/",
        {"purpose": "email_marketing", "granted": False, "evidence": "Replied STOP"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["source"] == "api" and response.json()["actor"] == "marketer"
    body = api.get(f"/api/leads/{lead.pk}/consents/").json()
    assert body["flags"]["email_opt_in"] is False
    assert [(r["purpose"], r["granted"], r["evidence"]) for r in body["records"]] == [
        ("email_marketing", False, "Replied STOP")
    ]
    assert api.get(f"/api/leads/{lead.pk}/").json()["email_opt_in"] is False


def test_the_api_names_the_bad_field(api_for, marketer):
    lead = LeadFactory()
    response = api_for(marketer).post(
        f"/api/leads/{lead.pk}/consents/", {"purpose": "x", "granted": "maybe"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"purpose", "granted"}
    response = api_for(marketer).post(
        f"/api/leads/{lead.pk}/consents/", {"purpose": "calls", "granted": False, "evidence": "a\x00b"}, format="json"
    )
    assert response.status_code == 400 and "evidence" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "role, get_status, post_status",
    [
        ("anonymous", 403, 403),
        ("rep", 200, 201),
        ("other_rep", 404, 404),
        ("marketer", 200, 201),
        ("manager", 200, 201),
    ],
)
def test_consent_api_per_role(request, api_for, api_client, rep, role, get_status, post_status):
    lead = LeadFactory(owner=rep, stage="handed_off")
    api = api_client if role == "anonymous" else api_for(request.getfixturevalue(role))
    url = f"/api/leads/{lead.pk}/consents/"
    assert api.get(url).status_code in {get_status, 401 if role == "anonymous" else get_status}
    response = api.post(url, {"purpose": "calls", "granted": False}, format="json")
    assert response.status_code in {post_status, 401 if role == "anonymous" else post_status}
    assert ConsentRecord.objects.filter(lead=lead).exists() is (post_status == 201)


def test_a_huge_lead_id_is_a_404_not_a_500(api_for, marketer):
    assert api_for(marketer).get("/api/leads/99999999999999999999/consents/").status_code == 404


def test_the_consent_list_takes_a_constant_number_of_queries(api_for, marketer, count_queries):
    lead = LeadFactory()
    api = api_for(marketer)
    api.get(f"/api/leads/{lead.pk}/consents/")
    consents_record(lead_id=lead.pk, changes=[("calls", True)], source="rep", actor=marketer)
    few = count_queries(lambda: api.get(f"/api/leads/{lead.pk}/consents/"))
    for _ in range(5):
        consents_record(lead_id=lead.pk, changes=[("calls", False), ("profiling", True)], source="rep", actor=marketer)
    assert count_queries(lambda: api.get(f"/api/leads/{lead.pk}/consents/")) == few


# --- the signed unsubscribe link ---------------------------------------------------------------


def test_the_unsubscribe_link_asks_on_get_and_withdraws_on_post(client):
    lead = LeadFactory(email_opt_in=True, first_name="Zelda")
    url = f"/unsubscribe/{unsubscribe_token(lead_id=lead.pk, purposes=['email_marketing'])}/"

    page = client.get(url)
    assert page.status_code == 200 and b"Unsubscribe" in page.content and b"Zelda" not in page.content
    assert flags(lead)["email_opt_in"] is True

    done = client.post(url)
    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    assert flags(lead)["email_opt_in"] is False
    record = ConsentRecord.objects.get(lead=lead)
    assert (record.source, record.granted) == ("unsubscribe", False)


def test_a_link_without_purposes_withdraws_everything(client):
    lead = LeadFactory(email_opt_in=True)
    client.post(f"/unsubscribe/{unsubscribe_token(lead_id=lead.pk)}/")
    assert flags(lead) == {"email_opt_in": False, "do_not_call": True, "do_not_contact": True, "do_not_profile": True}


def test_a_forged_or_damaged_token_changes_nothing(client):
    lead = LeadFactory(email_opt_in=True)
    token = unsubscribe_token(lead_id=lead.pk)
    assert client.post(f"/unsubscribe/{token[:-2]}xx/").status_code == 400
    other = LeadFactory()
    forged = signing.dumps({"l": other.pk, "p": ["calls"]}, salt="not-the-unsubscribe-salt")
    assert client.post(f"/unsubscribe/{forged}/").status_code == 400
    assert not ConsentRecord.objects.exists()


# --- withdrawal by a rep or marketer -----------------------------------------------------------


@pytest.mark.parametrize(
    "role, status, source",
    [("rep", 302, "rep"), ("other_rep", 404, None), ("marketer", 302, "marketer"), ("manager", 302, "rep")],
)
def test_withdrawal_from_the_lead_page_per_role(request, client_for, rep, role, status, source):
    lead = LeadFactory(owner=rep, stage="handed_off", email_opt_in=True)
    user = request.getfixturevalue(role)
    response = client_for(user).post(
        f"/leads/{lead.pk}/consents/withdraw/",
        {"purpose": "calls", "note": "Asked on the phone", "next": f"/calls/leads/{lead.pk}/"},
    )
    assert response.status_code == status
    if source:
        assert response["Location"] == f"/calls/leads/{lead.pk}/"
        record = ConsentRecord.objects.get(lead=lead)
        assert (record.purpose, record.granted, record.source, record.evidence) == (
            "calls",
            False,
            source,
            "Asked on the phone",
        )
        assert flags(lead)["do_not_call"] is True
    else:
        assert not ConsentRecord.objects.exists()


def test_anonymous_withdrawal_goes_to_login(client):
    lead = LeadFactory()
    response = client.post(f"/leads/{lead.pk}/consents/withdraw/", {"purpose": "calls"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ConsentRecord.objects.exists()


def test_withdrawal_with_a_bad_purpose_names_the_field_and_an_outside_next_is_ignored(client_for, marketer):
    lead = LeadFactory()
    bad = client_for(marketer).post(f"/leads/{lead.pk}/consents/withdraw/", {"purpose": "nope"})
    assert bad.status_code == 400 and b"purpose" in bad.content
    ok = client_for(marketer).post(
        f"/leads/{lead.pk}/consents/withdraw/", {"purpose": "all", "next": "https://evil.example/"}
    )
    assert ok["Location"] == "/"
    assert flags(lead)["do_not_contact"] is True
