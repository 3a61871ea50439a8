"""The leads write API: create, PATCH, upsert by email, bulk create; by role."""

import pytest

import leads.tasks  # noqa: F401  (registers the tasks run inline)
from leads.models import ConsentPurpose, ConsentRecord, ConsentSource, Lead, LifecycleStage, ScoringPolicy
from tests.leads.factories import LeadFactory, ScoringRuleFactory
from tests.sent_tasks import record_sent_tasks, run_sent_tasks_inline

pytestmark = pytest.mark.django_db

SCORE = "leads.tasks.score_lead_task"


@pytest.fixture
def sent(monkeypatch):
    return record_sent_tasks(monkeypatch)


def fields(response) -> dict:
    return response.json()["error"]["fields"]


# --- create ------------------------------------------------------------------------------------


def test_marketing_creates_a_lead_cleaned_like_a_capture_form_and_scored_after_commit(
    api_for, marketer, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(marketer).post(
            "/api/leads/",
            {
                "email": " Ada@Example.COM ",
                "company": "Analytical",
                "country": "gb",
                "employees": "1,200",
                "custom_attributes": {"plan": "pro"},
            },
            format="json",
        )

    assert response.status_code == 201, response.json()
    lead = Lead.objects.get()
    assert (lead.email, lead.country, lead.employees, lead.source) == ("ada@example.com", "GB", 1200, "api")
    assert lead.custom_attributes == {"plan": "pro"}
    assert response.json()["id"] == lead.pk
    assert sent == [(SCORE, (lead.pk,))]


def test_a_created_lead_over_the_threshold_is_scored_and_qualified(
    api_for, marketer, monkeypatch, django_capture_on_commit_callbacks
):
    ScoringRuleFactory(field="industry", value="software", points=60)
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": 50, "fit_minimum": 10})
    run_sent_tasks_inline(monkeypatch)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(marketer).post(
            "/api/leads/", {"email": "hot@example.com", "company": "Hot", "industry": "software"}, format="json"
        )

    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.score == 60 and lead.stage == LifecycleStage.MQL


def test_an_existing_email_in_any_case_is_refused_naming_the_lead(api_for, marketer, sent):
    existing = LeadFactory(email="ada@example.com")

    response = api_for(marketer).post("/api/leads/", {"email": "ADA@example.com"}, format="json")

    assert response.status_code == 400
    assert f"id {existing.pk}" in fields(response)["email"][0]
    assert Lead.objects.count() == 1 and sent == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"company": "No email"}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@example.com", "country": "Germany"}, "country"),
        ({"email": "a@example.com", "employees": 10**20}, "employees"),
        ({"email": "a@example.com", "company": "=HYPERLINK(1)"}, "company"),
        ({"email": "a@example.com", "stage": "mql"}, "stage"),
        ({"email": "a@example.com", "custom_attributes": {"x": {"deep": 1}}}, "custom_attributes.x"),
        ({"email": "a@example.com", "custom_attributes": {"bad name": 1}}, "custom_attributes.bad name"),
        ({"email": "a@example.com", "first_name": "x" * 3000}, "first_name"),
        ({"email": "a@example.com", "company": "Acme\x00Corp"}, "company"),
        ({"email": "a@example.com", "custom_attributes": {"x": "a\x00b"}}, "custom_attributes.x"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_for, marketer, body, field):
    response = api_for(marketer).post("/api/leads/", body, format="json")

    assert response.status_code == 400
    assert field in fields(response)
    assert not Lead.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(api_for, marketer):
    response = api_for(marketer).post("/api/leads/", [1, 2], format="json")

    assert response.status_code == 400


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_only_marketing_creates_leads(api_for, request, role):
    response = api_for(request.getfixturevalue(role)).post("/api/leads/", {"email": "a@example.com"}, format="json")

    assert response.status_code == 403 and not Lead.objects.exists()


def test_anonymous_writes_are_a_401(api_client):
    assert api_client.post("/api/leads/", {"email": "a@example.com"}, format="json").status_code == 401


# --- PATCH -------------------------------------------------------------------------------------


def test_marketing_changes_any_field_and_the_lead_is_rescored(
    api_for, marketer, sent, django_capture_on_commit_callbacks
):
    lead = LeadFactory(industry="retail")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(marketer).patch(f"/api/leads/{lead.pk}/", {"industry": "software"}, format="json")

    assert response.status_code == 200 and response.json()["industry"] == "software"
    assert sent == [(SCORE, (lead.pk,))]


def test_a_rep_changes_the_contact_fields_of_their_own_lead(api_for, rep):
    lead = LeadFactory(owner=rep, phone="")

    response = api_for(rep).patch(f"/api/leads/{lead.pk}/", {"phone": "+49 30 1234", "title": "CTO"}, format="json")

    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.phone, lead.title) == ("+49 30 1234", "CTO")


def test_a_rep_cannot_change_what_marketing_decides(api_for, rep):
    lead = LeadFactory(owner=rep, industry="retail")

    response = api_for(rep).patch(f"/api/leads/{lead.pk}/", {"industry": "software", "phone": "1234"}, format="json")

    assert response.status_code == 400 and list(fields(response)) == ["industry"]
    lead.refresh_from_db()
    assert lead.industry == "retail" and lead.phone != "1234"


def test_a_rep_cannot_change_another_reps_lead(api_for, rep, other_rep):
    lead = LeadFactory(owner=other_rep, title="CEO")

    response = api_for(rep).patch(f"/api/leads/{lead.pk}/", {"title": "Intern"}, format="json")

    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.title == "CEO"


def test_a_manager_changes_contact_fields_of_any_lead_but_nothing_else(api_for, manager, rep):
    lead = LeadFactory(owner=rep)

    ok = api_for(manager).patch(f"/api/leads/{lead.pk}/", {"title": "VP"}, format="json")
    refused = api_for(manager).patch(f"/api/leads/{lead.pk}/", {"email": "x@example.com"}, format="json")

    assert ok.status_code == 200 and refused.status_code == 400 and "email" in fields(refused)


def test_an_opt_out_cannot_be_cleared_through_the_api(api_for, marketer):
    lead = LeadFactory(do_not_contact=True)

    response = api_for(marketer).patch(f"/api/leads/{lead.pk}/", {"do_not_contact": False}, format="json")

    assert response.status_code == 400 and "do_not_contact" in fields(response)
    lead.refresh_from_db()
    assert lead.do_not_contact is True


def test_a_lead_created_or_upserted_through_the_api_has_the_api_source_unless_the_caller_names_one(api_for, marketer):
    api = api_for(marketer)

    api.post("/api/leads/", {"email": "plain@example.com"}, format="json")
    api.put("/api/leads/by-email/upsert@example.com/", {"company": "U"}, format="json")
    api.post("/api/leads/", {"email": "named@example.com", "source": "referral"}, format="json")

    sources = dict(Lead.objects.values_list("email", "source"))
    assert sources == {"plain@example.com": "api", "upsert@example.com": "api", "named@example.com": "referral"}


def test_an_email_opt_out_through_the_api_is_accepted_and_recorded_as_a_withdrawal(api_for, marketer):
    lead = LeadFactory(email_opt_in=True)

    response = api_for(marketer).patch(f"/api/leads/{lead.pk}/", {"email_opt_in": False}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["email_opt_in"] is False
    lead.refresh_from_db()
    assert lead.email_opt_in is False
    record = ConsentRecord.objects.get(lead=lead)
    assert (record.purpose, record.granted, record.source) == (ConsentPurpose.EMAIL_MARKETING, False, ConsentSource.API)
    assert record.actor == marketer and record.evidence == f"PATCH /api/leads/{lead.pk}/"


def test_an_email_opt_out_of_a_lead_already_opted_out_records_nothing(api_for, marketer):
    lead = LeadFactory(email_opt_in=False)

    response = api_for(marketer).patch(f"/api/leads/{lead.pk}/", {"email_opt_in": False}, format="json")

    assert response.status_code == 200
    assert not ConsentRecord.objects.filter(lead=lead).exists()


def test_a_new_email_must_be_free(api_for, marketer):
    LeadFactory(email="taken@example.com")
    lead = LeadFactory()

    response = api_for(marketer).patch(f"/api/leads/{lead.pk}/", {"email": "Taken@example.com"}, format="json")

    assert response.status_code == 400 and "email" in fields(response)


def test_a_put_on_a_lead_is_not_offered(api_for, marketer):
    lead = LeadFactory()

    assert api_for(marketer).put(f"/api/leads/{lead.pk}/", {"email": lead.email}, format="json").status_code == 405


# --- upsert by email --------------------------------------------------------------------------


def test_upsert_creates_a_new_lead_with_201(api_for, marketer, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(marketer).put("/api/leads/by-email/new@example.com/", {"company": "New"}, format="json")

    assert response.status_code == 201
    lead = Lead.objects.get(email="new@example.com")
    assert sent == [(SCORE, (lead.pk,))]


def test_upsert_updates_the_lead_with_that_email_in_any_case_like_a_capture_form(api_for, marketer):
    lead = LeadFactory(email="Ada@Example.com", company="Old", do_not_call=True, custom_attributes={"a": 1})

    response = api_for(marketer).put(
        "/api/leads/by-email/ada@example.com/",
        {"company": "New", "first_name": "", "do_not_call": False, "custom_attributes": {"b": 2}},
        format="json",
    )

    assert response.status_code == 200 and response.json()["id"] == lead.pk
    lead.refresh_from_db()
    assert lead.company == "New" and lead.first_name  # an empty value leaves the field alone
    assert lead.do_not_call is True  # consent only tightens
    assert lead.custom_attributes == {"a": 1, "b": 2}
    assert Lead.objects.count() == 1


def test_upsert_refuses_a_body_email_that_differs_from_the_address(api_for, marketer):
    response = api_for(marketer).put("/api/leads/by-email/a@example.com/", {"email": "b@example.com"}, format="json")

    assert response.status_code == 400 and "email" in fields(response)


def test_upsert_refuses_a_bad_email_in_the_address(api_for, marketer):
    response = api_for(marketer).put("/api/leads/by-email/not-an-email/", {}, format="json")

    assert response.status_code == 400 and "email" in fields(response)


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_only_marketing_upserts(api_for, request, role):
    response = api_for(request.getfixturevalue(role)).put("/api/leads/by-email/a@example.com/", {}, format="json")

    assert response.status_code == 403


# --- bulk --------------------------------------------------------------------------------------


def test_bulk_creates_every_lead_and_scores_them_after_commit(
    api_for, marketer, sent, django_capture_on_commit_callbacks
):
    body = {"leads": [{"email": f"b{n}@example.com", "company": f"C{n}"} for n in range(5)]}

    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(marketer).post("/api/leads/bulk/", body, format="json")

    assert response.status_code == 201, response.json()
    ids = response.json()["ids"]
    assert response.json()["created"] == 5
    assert list(Lead.objects.filter(pk__in=ids).order_by("pk").values_list("email", flat=True)) == [
        f"b{n}@example.com" for n in range(5)
    ]
    # Scored, and checked for duplicates, by a worker after commit.
    assert sent == [("leads.tasks.leads_score_batch_task", (ids,)), ("leads.tasks.duplicates_find_task", (ids,))]


def test_bulk_is_all_or_nothing_with_errors_keyed_by_index_and_field(api_for, marketer):
    LeadFactory(email="exists@example.com")
    body = {
        "leads": [
            {"email": "ok@example.com"},
            {"email": "bad", "company": "x"},
            {"email": "ok@example.com"},
            {"email": "EXISTS@example.com"},
            {"email": "c@example.com", "country": "Germany"},
        ]
    }

    response = api_for(marketer).post("/api/leads/bulk/", body, format="json")

    assert response.status_code == 400
    errors = fields(response)
    assert set(errors) == {"leads.1.email", "leads.2.email", "leads.4.country"}
    assert Lead.objects.count() == 1


def test_bulk_reports_existing_emails_when_the_rest_is_clean(api_for, marketer):
    existing = LeadFactory(email="exists@example.com")

    response = api_for(marketer).post(
        "/api/leads/bulk/", {"leads": [{"email": "new@example.com"}, {"email": "Exists@example.com"}]}, format="json"
    )

    assert response.status_code == 400
    message = fields(response)["leads.1.email"][0]
    assert "already exists" in message and str(existing.pk) not in message
    assert Lead.objects.count() == 1


def test_bulk_takes_at_most_the_limit(api_for, marketer, settings):
    settings.LEADS_BULK_MAX = 3
    body = {"leads": [{"email": f"b{n}@example.com"} for n in range(4)]}

    response = api_for(marketer).post("/api/leads/bulk/", body, format="json")

    assert response.status_code == 400 and "leads" in fields(response)


@pytest.mark.parametrize("body", [{}, {"leads": []}, {"leads": "x"}, [1]])
def test_bulk_needs_a_list_of_leads(api_for, marketer, body):
    assert api_for(marketer).post("/api/leads/bulk/", body, format="json").status_code == 400


def test_bulk_of_a_thousand_leads_is_one_request(api_for, marketer):
    body = {"leads": [{"email": f"k{n}@example.com", "company": "K"} for n in range(1000)]}

    response = api_for(marketer).post("/api/leads/bulk/", body, format="json")

    assert response.status_code == 201 and Lead.objects.count() == 1000


@pytest.mark.parametrize("role", ["rep", "other_rep", "manager"])
def test_only_marketing_bulk_creates(api_for, request, role):
    response = api_for(request.getfixturevalue(role)).post(
        "/api/leads/bulk/", {"leads": [{"email": "a@example.com"}]}, format="json"
    )

    assert response.status_code == 403
