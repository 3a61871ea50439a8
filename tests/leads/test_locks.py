"""`leads.api.leads_lock` / `lead_lock`: the one way other apps lock lead rows (pk order)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from leads.api import lead_lock, leads_lock
from tests.leads.factories import LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_leads_are_locked_and_returned_in_primary_key_order():
    leads = LeadFactory.create_batch(3)
    ids = [leads[2].pk, leads[0].pk, leads[1].pk, 10**9]  # any order, one missing

    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        locked = leads_lock(ids=ids)

    assert [lead.pk for lead in locked] == sorted(lead.pk for lead in leads)
    sql = ctx.captured_queries[-1]["sql"]
    assert "FOR UPDATE" in sql and 'ORDER BY "leads_lead"."id" ASC' in sql


def test_one_lead_is_locked_or_none_when_missing():
    lead = LeadFactory()

    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        assert lead_lock(lead_id=lead.pk) == lead
        assert lead_lock(lead_id=10**9) is None

    assert all("FOR UPDATE" in q["sql"] for q in ctx.captured_queries)
