"""The latest-event columns a lead should have, computed in Python from its events: what the
tests of every write path of events compare the stored columns with."""

from leads.models import LAST_EVENT_ANY, LAST_EVENT_AT, EngagementEvent, Lead

COLUMNS = (LAST_EVENT_ANY, *LAST_EVENT_AT.values())


def expected_columns(lead_id: int) -> dict:
    expected = dict.fromkeys(COLUMNS)
    for kind, at in EngagementEvent.objects.filter(lead_id=lead_id).values_list("kind", "occurred_at"):
        for field in (LAST_EVENT_ANY, LAST_EVENT_AT[kind]):
            if expected[field] is None or at > expected[field]:
                expected[field] = at
    return expected


def stored_columns(lead_id: int) -> dict:
    return Lead.objects.filter(pk=lead_id).values(*COLUMNS).get()


def assert_columns_match_events(*lead_ids: int) -> None:
    for lead_id in lead_ids or Lead.objects.values_list("pk", flat=True):
        assert stored_columns(lead_id) == expected_columns(lead_id), f"lead {lead_id}"
