from unittest import mock

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from leads.models import CaptureForm, EngagementEvent, Lead
from tests.leads.factories import LeadFactory
from tests.sent_tasks import task_sends

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_broker():
    with task_sends("leads.tasks.score_lead_task"):
        yield


# --- POST /api/events/ -----------------------------------------------------------------------


def test_one_event_is_recorded_for_a_lead_by_id(api_for, marketer, django_capture_on_commit_callbacks):
    lead = LeadFactory()
    with task_sends("leads.tasks.score_lead_task") as delay, django_capture_on_commit_callbacks(execute=True):
        response = api_for(marketer).post(
            "/api/events/", {"lead": lead.pk, "kind": "webinar", "source_reference": "w-1"}, format="json"
        )
    assert response.status_code == 201, response.json()
    assert response.json()["events"][0]["created"] is True
    assert EngagementEvent.objects.get().lead == lead
    delay.assert_called_once_with(lead.pk)


def test_a_batch_finds_leads_by_email_in_any_case_and_ignores_repeats(api_for, marketer):
    lead = LeadFactory(email="ana@acme.example")
    events = [
        {"email": "ANA@acme.example", "kind": "page_view", "source_reference": "p-1"},
        {"email": "ana@acme.example", "kind": "page_view", "source_reference": "p-1"},
        {"lead": lead.pk, "kind": "email_click", "occurred_at": "2026-05-01T10:00:00Z"},
    ]
    response = api_for(marketer).post("/api/events/", {"events": events}, format="json")
    assert response.status_code == 201
    assert [e["created"] for e in response.json()["events"]] == [True, False, True]
    assert EngagementEvent.objects.filter(lead=lead).count() == 2


def test_an_unknown_email_creates_a_lead_only_with_enough_to_make_one(api_for, marketer):
    api = api_for(marketer)
    refused = api.post("/api/events/", [{"email": "new@x.example", "kind": "webinar"}], format="json")
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["events.0.email"]
    assert not Lead.objects.exists()

    made = api.post(
        "/api/events/",
        [{"email": "New@X.example", "kind": "webinar", "lead_fields": {"first_name": "Nia", "company": "X"}}],
        format="json",
    )
    assert made.status_code == 201
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.source) == ("new@x.example", "Nia", "event")
    assert made.json()["events"][0]["lead_created"] is True


def test_one_bad_event_refuses_the_whole_batch_and_nothing_is_stored(api_for, marketer):
    lead = LeadFactory()
    events = [
        {"lead": lead.pk, "kind": "webinar"},
        {"lead": 999999, "kind": "webinar"},
        {"lead": lead.pk, "kind": "telepathy"},
    ]
    response = api_for(marketer).post("/api/events/", events, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "events.2.kind" in fields
    assert not EngagementEvent.objects.exists()
    response = api_for(marketer).post("/api/events/", events[:2], format="json")
    assert response.json()["error"]["fields"] == {"events.1.lead": ["No lead with id 999999."]}
    assert not EngagementEvent.objects.exists()


@pytest.mark.parametrize("body", [[], "text", [1, 2], {"kind": "webinar"}])
def test_malformed_event_bodies_get_a_clear_error(api_for, marketer, body):
    response = api_for(marketer).post("/api/events/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]


def test_a_batch_over_the_limit_is_refused(api_for, marketer, settings):
    settings.EVENTS_MAX_BATCH = 2
    lead = LeadFactory()
    response = api_for(marketer).post("/api/events/", [{"lead": lead.pk, "kind": "webinar"}] * 3, format="json")
    assert response.status_code == 400
    assert "At most 2" in response.json()["error"]["message"]


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_only_marketing_records_events(api_for, request, role):
    lead = LeadFactory()
    response = api_for(request.getfixturevalue(role)).post(
        "/api/events/", {"lead": lead.pk, "kind": "webinar"}, format="json"
    )
    assert response.status_code == 403
    assert not EngagementEvent.objects.exists()


# --- POST /capture/<key>/ ----------------------------------------------------------------------


@pytest.fixture
def form():
    return CaptureForm.objects.create(
        key="demo-request", name="Demo request", redirect_url="https://example.com/thanks"
    )


def test_a_browser_submission_creates_the_lead_records_the_event_and_redirects(client, form):
    response = client.post(
        "/capture/demo-request/",
        {"email": "Zoe@Acme.example", "first_name": "Zoe", "company": "Acme", "email_opt_in": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == "https://example.com/thanks"
    lead = Lead.objects.get()
    assert (lead.email, lead.source, lead.email_opt_in) == ("zoe@acme.example", "web_form", True)
    assert lead.events.get().kind == "form_submit"


def test_a_second_submission_with_the_email_in_another_case_updates_the_same_lead(client, form):
    LeadFactory(email="zoe@acme.example", title="", do_not_contact=True)
    response = client.post(
        "/capture/demo-request/",
        {"email": "ZOE@ACME.EXAMPLE", "title": "CTO", "do_not_contact": "false"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201
    assert response.json() == {"ok": True, "created": False}
    lead = Lead.objects.get()
    assert lead.title == "CTO"
    assert lead.do_not_contact is True  # a form never lifts an opt-out
    assert lead.events.count() == 1


def test_a_filled_honeypot_looks_like_success_but_stores_nothing(client, form):
    response = client.post("/capture/demo-request/", {"email": "bot@spam.example", "website": "http://spam"})
    assert response.status_code == 302
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"first_name": "No email"}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b.example", "company": "=HYPERLINK(1)"}, "company"),
        ({"email": "a@b.example", "employees": "many"}, "employees"),
        ({"email": "a@b.example", "country": "Germany"}, "country"),
    ],
)
def test_bad_submissions_get_an_error_naming_the_field(client, form, data, field):
    response = client.post("/capture/demo-request/", data)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Lead.objects.exists()


def test_an_unknown_or_inactive_form_is_404(client, form):
    assert client.post("/capture/nope/", {"email": "a@b.example"}).status_code == 404
    form.is_active = False
    form.save()
    assert client.post("/capture/demo-request/", {"email": "a@b.example"}).status_code == 404


def test_capture_is_throttled_per_ip(client, form):
    with mock.patch.object(SimpleRateThrottle, "THROTTLE_RATES", {"capture": "2/min", "capture_form": "100/min"}):
        codes = [client.post("/capture/demo-request/", {"email": f"p{i}@x.example"}).status_code for i in range(3)]
    assert codes == [302, 302, 429]
    assert Lead.objects.count() == 2


def test_capture_is_throttled_per_form_across_ips(client, form):
    with mock.patch.object(SimpleRateThrottle, "THROTTLE_RATES", {"capture": "100/min", "capture_form": "2/min"}):
        codes = [
            client.post("/capture/demo-request/", {"email": f"p{i}@x.example"}, REMOTE_ADDR=f"10.0.0.{i}").status_code
            for i in range(3)
        ]
    assert codes == [302, 302, 429]
