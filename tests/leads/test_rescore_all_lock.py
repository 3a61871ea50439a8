"""Re-scores of every lead take turns on PostgreSQL instead of deadlocking each other: one
runs, at most one waits, the rest skip (the waiting one covers them)."""

import random
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from leads.locks import RESCORE_WAITING, rescore_all_turn
from leads.models import Lead, RuleKind, ScoringPolicy, ScoringRule
from leads.scoring import leads_rescore_all, leads_score_batch
from tests.leads.factories import EngagementEventFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def make_leads(n: int) -> list[int]:
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"threshold": 1000, "fit_minimum": 0})
    ScoringRule.objects.create(
        name="Fit", kind=RuleKind.FIT, field="industry", operator="eq", value="software", points=20
    )
    ScoringRule.objects.create(name="Webinar", kind=RuleKind.ENGAGEMENT, event_kind="webinar", points_per_event=15)
    Lead.objects.bulk_create(Lead(email=f"l{i}@example.com", industry="software") for i in range(n))
    ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    for lead_id in ids[::50]:
        EngagementEventFactory(lead=Lead(pk=lead_id), kind="webinar", occurred_at=timezone.now())
    assert Lead.objects.count() == n
    return ids


def someone_waits() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND ((classid::bigint << 32) | objid::bigint) = %s",
            [RESCORE_WAITING],
        )
        return cursor.fetchone()[0] > 0


def in_thread(fn, results: dict, key: str) -> threading.Thread:
    def run():
        try:
            results[key] = fn()
        except Exception as exc:  # asserted by the test
            results[key] = exc
        finally:
            results[f"{key}_at"] = time.monotonic()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_second_re_score_waits_for_the_running_one_and_a_third_skips():
    n = len(make_leads(300))
    holding, release, results = threading.Event(), threading.Event(), {}

    def running():
        with rescore_all_turn() as my_turn:
            holding.set()
            release.wait(30)
            return my_turn

    first = in_thread(running, results, "first")
    assert holding.wait(10)
    second = in_thread(lambda: leads_rescore_all(qualify=False), results, "second")
    deadline = time.monotonic() + 10
    while not someone_waits() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert someone_waits(), "the second re-score should be waiting for its turn"

    assert leads_rescore_all(qualify=False) == 0  # a third: skips, the waiting one covers it
    assert "second" not in results  # still waiting
    released_at = time.monotonic()
    release.set()
    first.join(30)
    second.join(30)

    assert results["first"] is True
    assert results["second"] == n and results["second_at"] >= released_at
    assert not someone_waits()
    assert leads_rescore_all(qualify=False) == n  # the turn is free again


def test_concurrent_re_scores_and_import_batches_finish_without_a_deadlock():
    ids = make_leads(3000)
    results, threads = {}, []
    rng = random.Random(7)

    def rescore_three_times():
        return [leads_rescore_all(qualify=False) for _ in range(3)]

    def batches():
        for _ in range(4):
            chosen = rng.sample(ids, 800)
            leads_score_batch(lead_ids=chosen)
        return "ok"

    for i in range(4):
        threads.append(in_thread(rescore_three_times, results, f"all{i}"))
    for i in range(2):
        threads.append(in_thread(batches, results, f"batch{i}"))
    for thread in threads:
        thread.join(120)

    errors = {k: v for k, v in results.items() if isinstance(v, Exception)}
    assert errors == {}
    assert sum(sum(results[f"all{i}"]) for i in range(4)) >= len(ids)  # at least one full pass ran
    assert Lead.objects.filter(fit_score=20, score__gte=20, scored_at__isnull=False).count() == len(ids)
