"""The crm lock helper takes rows in one order and refuses a service that asks otherwise."""

import pytest
from django.db import transaction

from crm.locking import LockOrderError, SalesLocks
from crm.models import Assignment
from tests.crm.factories import AssignmentFactory

pytestmark = pytest.mark.django_db


def test_leads_then_assignments_is_the_order():
    assignment = AssignmentFactory()
    with transaction.atomic():
        locks = SalesLocks()
        assert [lead.pk for lead in locks.leads([assignment.lead_id])] == [assignment.lead_id]
        assert locks.assignments(Assignment.objects.filter(pk=assignment.pk)) == [assignment]


def test_a_lead_asked_for_after_an_assignment_is_refused():
    assignment = AssignmentFactory()
    with transaction.atomic():
        locks = SalesLocks()
        locks.assignments(Assignment.objects.filter(pk=assignment.pk))
        with pytest.raises(LockOrderError, match="lead rows locked after assignment rows"):
            locks.lead(assignment.lead_id)


def test_several_leads_come_back_locked_in_primary_key_order():
    ids = sorted(AssignmentFactory().lead_id for _ in range(3))
    with transaction.atomic():
        assert [lead.pk for lead in SalesLocks().leads(reversed(ids))] == ids
