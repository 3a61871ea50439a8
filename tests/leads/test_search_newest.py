"""lead_search's newest-first paths (leads/search.py _newest_matching): the newest-leads
window, the rare term found by ids, and the common term walked from the newest lead. Each
must give exactly the newest matches; the bench (`bench search`) shows why there are three."""

import pytest

from leads import search
from leads.models import Lead
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_window(monkeypatch):
    """A window of 5 leads and 'rare' meaning at most 3 matches, so a few dozen leads exercise
    every path; the floor cache is cleared so the window is taken from this test's rows."""
    monkeypatch.setattr(search, "NEWEST_WINDOW", 5)
    monkeypatch.setattr(search, "RARE_TERM_MATCHES", 3)
    search._window_floor_cache.clear()
    yield
    search._window_floor_cache.clear()


def _newest_ids(term: str, limit: int = 2) -> list[int]:
    return [lead.pk for lead in search.lead_search(Lead.objects.all(), term, limit=limit)]


def _expected(term: str, limit: int = 2) -> list[int]:
    rows = Lead.objects.filter(search_name__contains=term).order_by("-id").values_list("id", flat=True)
    return list(rows[:limit])


def test_matches_among_the_newest_leads_are_found_in_the_window(small_window, django_assert_num_queries):
    for _ in range(8):
        LeadFactory(last_name="Filler")
    LeadFactory(last_name="Quarrington")
    LeadFactory(last_name="Quarrington")
    search._window_floor(Lead)
    expected = _expected("quarrington")
    with django_assert_num_queries(1):
        found = _newest_ids("quarrington")
    assert found == expected


def test_a_rare_term_outside_the_window_is_found_by_its_ids(small_window):
    LeadFactory(last_name="Oldmoor")
    LeadFactory(last_name="Oldmoor")
    LeadFactory(last_name="Oldmoor")
    for _ in range(8):
        LeadFactory(last_name="Filler")
    assert _newest_ids("oldmoor") == _expected("oldmoor")
    assert len(_expected("oldmoor")) == 2


def test_a_common_term_outside_the_window_is_walked_from_the_newest(small_window):
    for _ in range(6):
        LeadFactory(last_name="Commonwell")
    for _ in range(8):
        LeadFactory(last_name="Filler")
    assert _newest_ids("commonwell", limit=4) == _expected("commonwell", limit=4)


def test_fewer_leads_than_the_window_need_one_query(django_assert_num_queries):
    search._window_floor_cache.clear()
    LeadFactory(last_name="Quarrington")
    search._window_floor(Lead)
    expected = _expected("quarrington", limit=1)
    with django_assert_num_queries(1):
        found = _newest_ids("quarrington", limit=1)
    assert found == expected
    search._window_floor_cache.clear()
