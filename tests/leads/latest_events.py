"""What engagement segments read about a lead, computed in Python from its events: the
latest-event columns and the LatestEngagement ranks. The tests of every write path of events
compare what is stored with this."""

from leads.models import (
    ANY_KIND,
    LAST_EVENT_ANY,
    LAST_EVENT_AT,
    LATEST_ENGAGEMENT_DEPTH,
    EngagementEvent,
    LatestEngagement,
    Lead,
)

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


def expected_ranks(lead_id: int) -> set[tuple[str, int, object]]:
    by_kind: dict[str, list] = {}
    for kind, at in EngagementEvent.objects.filter(lead_id=lead_id).values_list("kind", "occurred_at"):
        by_kind.setdefault(kind, []).append(at)
        by_kind.setdefault(ANY_KIND, []).append(at)
    return {
        (kind, nth, at)
        for kind, moments in by_kind.items()
        for nth, at in enumerate(sorted(moments, reverse=True), start=1)
        if 2 <= nth <= LATEST_ENGAGEMENT_DEPTH
    }


def stored_ranks(lead_id: int) -> set[tuple[str, int, object]]:
    return set(LatestEngagement.objects.filter(lead_id=lead_id).values_list("kind", "nth", "occurred_at"))


def assert_columns_match_events(*lead_ids: int) -> None:
    for lead_id in lead_ids or Lead.objects.values_list("pk", flat=True):
        assert stored_columns(lead_id) == expected_columns(lead_id), f"lead {lead_id}"
        assert stored_ranks(lead_id) == expected_ranks(lead_id), f"lead {lead_id}"
