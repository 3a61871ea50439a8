"""The call-list order exists twice, on purpose: in SQL (``_ranked_assignment_ids`` picks the
top rows in the database, so a rep with a large book never loads it) and in Python
(``CallListRow.sort_key`` merges those rows with the check-ins due). On random books the two
must put the assignments in the same order, ties included."""

import datetime
import zoneinfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.models import Assignment, AssignmentStatus, FollowUp
from crm.selectors import CompiledQuery, _ranked_assignment_ids, call_list_for_rep, call_list_params
from leads.models import Lead, LifecycleStage
from tests.crm.factories import AssignmentFactory, FollowUpFactory, SalesQueueFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 3, 12, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)
ZONES = [f"Etc/GMT{offset:+d}" for offset in range(-12, 13) if offset] + ["UTC"]
OUTSIDE = next(z for z in ZONES if not 9 <= NOW.astimezone(zoneinfo.ZoneInfo(z)).hour < 20)

books = st.lists(
    st.fixed_dictionaries(
        {
            "touched": st.booleans(),
            "sla_in": st.sampled_from([-120, -30, 30, 240]),  # minutes from now
            "follow_ups": st.lists(st.sampled_from([-90, -10, 60]), max_size=2),
            "score": st.sampled_from([10.0, 50.0, 50.0, 87.5]),  # repeats: ties on score
            "handed_off": st.sampled_from([-300, -180]),  # ties on the hand-off time
            "outside": st.booleans(),
        }
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(book=books)
def test_the_sql_order_and_the_python_sort_key_agree(rep, book):
    FollowUp.objects.all().delete()
    Assignment.objects.all().delete()
    Lead.objects.all().delete()
    queue = SalesQueueFactory()
    for item in book:
        lead = LeadFactory(
            owner=rep, stage=LifecycleStage.SAL, score=item["score"], timezone=OUTSIDE if item["outside"] else "UTC"
        )
        handed_off = NOW + item["handed_off"] * MINUTE
        AssignmentFactory(
            lead=lead,
            queue=queue,
            rep=rep,
            status=AssignmentStatus.ACCEPTED,
            handed_off_at=handed_off,
            assigned_at=handed_off,
            sla_due_at=NOW + item["sla_in"] * MINUTE,
            first_touch_at=handed_off + MINUTE if item["touched"] else None,
        )
        for due_in in item["follow_ups"]:
            FollowUpFactory(rep=rep, lead=lead, due_at=NOW + due_in * MINUTE)
    values = call_list_params(rep=rep, now=NOW)
    assert OUTSIDE in values["outside"]

    from django.db import connection

    in_sql = [r["pk"] for r in CompiledQuery(_ranked_assignment_ids(50), connection).rows(**values)]
    in_python = [row.assignment.pk for row in call_list_for_rep(rep=rep, now=NOW, limit=50) if row.assignment]

    assert in_sql == in_python
