"""``bench load``'s workload: the leads the generator requests stay the rep's for the whole run,
so a 404 or any other error it counts is a real one."""

import pytest
from django.contrib.auth import get_user_model

from crm.models import Assignment, AssignmentStatus, SalesQueue
from crm.selectors import lead_visible_q
from crm.services.calls import call_log
from devtools.benchmarks import load
from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_unanswered_log_call_posts_never_send_a_bench_lead_back_to_marketing():
    rep_id, lead_ids = load._seed(3)
    rep = get_user_model().objects.get(pk=rep_id)
    queue = SalesQueue.objects.get(name=load.QUEUE_NAME)
    lead_id = lead_ids[0]
    assert queue.max_attempts == load.MAX_ATTEMPTS
    for _ in range(10):  # past the default cadence of 6
        call_log(rep=rep, outcome="no_answer", lead_id=lead_id, notes="bench")
    assert Lead.objects.get(pk=lead_id).stage == "handed_off"
    assert Assignment.objects.get(lead_id=lead_id).status == AssignmentStatus.ASSIGNED
    assert set(Lead.objects.filter(lead_visible_q(rep)).values_list("pk", flat=True)) >= set(lead_ids)


def test_a_second_seed_replaces_the_first_runs_leads():
    load._seed(3)
    _rep_id, lead_ids = load._seed(2)
    assert sorted(Lead.objects.filter(email__startswith=load.EMAIL_PREFIX).values_list("pk", flat=True)) == sorted(
        lead_ids
    )
    assert SalesQueue.objects.get(name=load.QUEUE_NAME).max_attempts == load.MAX_ATTEMPTS
