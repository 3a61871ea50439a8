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


def test_the_cpu_budget_turns_cpu_per_request_into_the_closed_loop_latency_floor(monkeypatch):
    monkeypatch.setattr(load.os, "cpu_count", lambda: 2)
    budget = load._cpu_budget(requests=1000, clients=32, server_cpu=18.0, generator_cpu=2.0)
    # 20 ms of CPU a request on 2 CPUs: at most 100 req/s, so 32 clients wait 320 ms on average
    assert budget["server_ms_per_request"] == 18.0 and budget["generator_ms_per_request"] == 2.0
    assert budget["generator_share"] == 0.1
    assert budget["max_rps"] == 100.0 and budget["min_mean_latency_ms"] == 320.0
    assert load._cpu_budget(requests=0, clients=32, server_cpu=1.0, generator_cpu=1.0)["max_rps"] is None


def test_the_process_tree_cpu_counts_this_process():
    import os

    before = load._tree_cpu(os.getpid())
    sum(i * i for i in range(2_000_000))
    assert load._tree_cpu(os.getpid()) > before
