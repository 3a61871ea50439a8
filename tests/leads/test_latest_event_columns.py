"""What engagement segment conditions read (the leads' latest-event columns ``last_engaged_at``,
``last_<kind>_at`` and their LatestEngagement ranks) stays equal to what their events say, on
every write path of events.
(Campaign responses and collateral views: tests/campaigns; demo data: tests/foundation.)"""

import datetime
import threading

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from leads.models import (
    LAST_EVENT_ANY,
    LAST_EVENT_AT,
    LATEST_ENGAGEMENT_DEPTH,
    CaptureForm,
    EngagementEvent,
    EngagementKind,
    Lead,
)
from leads.segments import compile_definition
from leads.services import engagement_record, lead_engagement_refresh
from tests.leads.factories import EngagementEventFactory, LeadFactory
from tests.leads.latest_events import assert_columns_match_events, stored_columns, stored_ranks
from tests.sent_tasks import task_sends

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _no_broker():
    with task_sends("leads.tasks.score_lead_task"):
        yield


def webinar_in_last(days: int) -> dict:
    return {"field": "engagement", "op": "at_least", "value": {"kind": "webinar", "count": 1, "days": days}}


def test_every_engagement_kind_has_an_indexed_latest_event_column():
    indexed = {index.fields[0] for index in Lead._meta.indexes if index.condition is not None}
    for kind in EngagementKind.values:
        assert Lead._meta.get_field(LAST_EVENT_AT[kind]).null
        assert LAST_EVENT_AT[kind] in indexed
    assert LAST_EVENT_ANY in indexed


def test_recorded_events_move_the_columns_forward_and_a_late_older_event_does_not_move_them_back():
    lead = LeadFactory()

    engagement_record(lead_id=lead.pk, kind="webinar", occurred_at=NOW - datetime.timedelta(days=1))
    engagement_record(lead_id=lead.pk, kind="webinar", occurred_at=NOW - datetime.timedelta(days=9))
    engagement_record(lead_id=lead.pk, kind="page_view", occurred_at=NOW - datetime.timedelta(days=3))

    stored = stored_columns(lead.pk)
    assert stored["last_webinar_at"] == NOW - datetime.timedelta(days=1)
    assert stored["last_page_view_at"] == NOW - datetime.timedelta(days=3)
    assert stored[LAST_EVENT_ANY] == NOW - datetime.timedelta(days=1)
    assert stored["last_email_click_at"] is None
    assert_columns_match_events(lead.pk)


def test_recorded_events_are_ranked_up_to_the_depth_of_each_kind_and_of_any_kind():
    lead = LeadFactory()
    moments = [NOW - datetime.timedelta(hours=hours) for hours in range(LATEST_ENGAGEMENT_DEPTH + 2)]

    for at in reversed(moments):  # oldest first, then a late-arriving old one
        engagement_record(lead_id=lead.pk, kind="page_view", occurred_at=at)
    engagement_record(lead_id=lead.pk, kind="webinar", occurred_at=NOW - datetime.timedelta(days=30))

    ranks = stored_ranks(lead.pk)
    assert ("page_view", 2, moments[1]) in ranks
    assert ("page_view", LATEST_ENGAGEMENT_DEPTH, moments[LATEST_ENGAGEMENT_DEPTH - 1]) in ranks
    assert max(nth for _kind, nth, _at in ranks) == LATEST_ENGAGEMENT_DEPTH
    assert not [rank for rank in ranks if rank[0] == "webinar"]  # one webinar: only its latest, on the lead
    assert_columns_match_events(lead.pk)


def test_a_repeated_event_changes_nothing():
    lead = LeadFactory()
    engagement_record(lead_id=lead.pk, kind="webinar", occurred_at=NOW, source_reference="w-1")

    event, created = engagement_record(
        lead_id=lead.pk, kind="webinar", occurred_at=NOW + datetime.timedelta(days=1), source_reference="w-1"
    )

    assert created is False
    assert stored_columns(lead.pk)["last_webinar_at"] == NOW


def test_a_batch_through_the_events_api_keeps_the_columns_and_the_segment_right(api_for, marketer):
    recent, idle = LeadFactory(), LeadFactory()
    now = timezone.now()
    events = [
        {"lead": recent.pk, "kind": "webinar", "occurred_at": (now - datetime.timedelta(days=2)).isoformat()},
        {"lead": recent.pk, "kind": "webinar", "occurred_at": (now - datetime.timedelta(days=20)).isoformat()},
        {"lead": idle.pk, "kind": "webinar", "occurred_at": (now - datetime.timedelta(days=20)).isoformat()},
        {"lead": idle.pk, "kind": "email_click", "occurred_at": now.isoformat()},
    ]

    response = api_for(marketer).post("/api/events/", {"events": events}, format="json")

    assert response.status_code == 201, response.json()
    assert_columns_match_events(recent.pk, idle.pk)
    assert list(Lead.objects.filter(compile_definition(webinar_in_last(14))).values_list("pk", flat=True)) == [
        recent.pk
    ]


def test_a_capture_form_submission_sets_the_form_submit_column(client):
    CaptureForm.objects.create(key="demo-request", name="Demo request", redirect_url="https://example.com/thanks")

    client.post("/capture/demo-request/", {"email": "zoe@acme.example", "first_name": "Zoe"})

    lead = Lead.objects.get()
    assert stored_columns(lead.pk)["last_form_submit_at"] == lead.events.get().occurred_at
    assert_columns_match_events(lead.pk)
    recent_form = {"field": "engagement", "op": "at_least", "value": {"kind": "form_submit", "count": 1, "days": 1}}
    assert Lead.objects.filter(compile_definition(recent_form)).get() == lead


def _admin_request(user):
    request = RequestFactory().post("/admin/")
    request.user = user
    return request


def test_editing_an_event_in_the_admin_recomputes_the_columns_of_both_leads(manager):
    first, second = LeadFactory(), LeadFactory()
    moved = EngagementEventFactory(lead=first, kind="webinar", occurred_at=NOW)
    EngagementEventFactory(lead=first, kind="webinar", occurred_at=NOW - datetime.timedelta(days=5))
    model_admin = admin.site._registry[EngagementEvent]

    moved.lead, moved.occurred_at = second, NOW - datetime.timedelta(days=1)
    model_admin.save_model(_admin_request(manager), moved, form=None, change=True)

    assert stored_columns(first.pk)["last_webinar_at"] == NOW - datetime.timedelta(days=5)
    assert stored_columns(second.pk)["last_webinar_at"] == NOW - datetime.timedelta(days=1)
    assert_columns_match_events(first.pk, second.pk)


def test_deleting_events_in_the_admin_recomputes_and_clears_the_columns(manager):
    lead, other = LeadFactory(), LeadFactory()
    latest = EngagementEventFactory(lead=lead, kind="webinar", occurred_at=NOW)
    EngagementEventFactory(lead=lead, kind="page_view", occurred_at=NOW - datetime.timedelta(days=3))
    EngagementEventFactory(lead=other, kind="webinar", occurred_at=NOW)
    model_admin = admin.site._registry[EngagementEvent]

    model_admin.delete_model(_admin_request(manager), latest)
    assert stored_columns(lead.pk)["last_webinar_at"] is None
    assert stored_columns(lead.pk)[LAST_EVENT_ANY] == NOW - datetime.timedelta(days=3)

    model_admin.delete_queryset(_admin_request(manager), EngagementEvent.objects.all())
    assert stored_columns(lead.pk)[LAST_EVENT_ANY] is None
    assert stored_columns(other.pk)["last_webinar_at"] is None
    assert_columns_match_events(lead.pk, other.pk)


def test_a_refresh_of_every_lead_repairs_bulk_written_events_and_stale_columns():
    with_events, without_events = LeadFactory(), LeadFactory()
    EngagementEvent.objects.bulk_create(
        [
            EngagementEvent(lead=with_events, kind="webinar", occurred_at=NOW),
            EngagementEvent(lead=with_events, kind="email_open", occurred_at=NOW - datetime.timedelta(days=2)),
        ]
    )
    Lead.objects.filter(pk=without_events.pk).update(last_engaged_at=NOW, last_webinar_at=NOW)

    refreshed = lead_engagement_refresh()

    assert refreshed == 2
    assert_columns_match_events(with_events.pk, without_events.pk)
    assert stored_columns(without_events.pk)[LAST_EVENT_ANY] is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_events_recorded_at_once_for_one_lead_leave_the_latest_of_them():
    lead = LeadFactory()
    moments = [NOW - datetime.timedelta(hours=hours) for hours in (5, 1, 9, 3)]
    errors = []
    barrier = threading.Barrier(len(moments))

    def record(at):
        try:
            barrier.wait()
            engagement_record(lead_id=lead.pk, kind="webinar", occurred_at=at)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(at,)) for at in moments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert stored_columns(lead.pk)["last_webinar_at"] == max(moments)
    assert_columns_match_events(lead.pk)
