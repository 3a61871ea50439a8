"""Celery tasks of marketing (routed to the ``marketing`` queue). Thin: take ids, call one
service.

The scoring and qualification tasks are ``acks_late`` with ``reject_on_worker_lost``: a worker
process killed mid-task leaves its message to be delivered again, and each of them is safe to
run again: a score is a pure function of the rules and events (the UPDATE writes the same
values), and qualification moves a lead only if it still qualifies, re-checked under its row
lock, one transaction per lead, so a lead moves to MQL once however often the task runs. If
the whole worker dies, Redis gives its unacknowledged messages back only after the
visibility timeout (above the longest task); until then the beat job ``leads-qualify-ready``
(every minute) moves any lead left over the threshold.
"""

from __future__ import annotations

from celery import shared_task

from .duplicates import duplicates_find
from .rule_sets import rule_set_rescore
from .scoring import lead_score, leads_qualify_ready, leads_rescore_all, leads_rescore_daily, leads_score_batch


@shared_task(name="leads.tasks.score_lead_task", acks_late=True, reject_on_worker_lost=True)
def score_lead_task(lead_id: int) -> float | None:
    """Score and qualify one lead after an event. Safe to repeat: scoring is a pure function of
    rules and events, and qualification re-checks under the row lock."""
    from .models import Lead

    try:
        return lead_score(lead_id=lead_id).score
    except Lead.DoesNotExist:
        return None


@shared_task(name="leads.tasks.leads_rescore_all_task", acks_late=True, reject_on_worker_lost=True)
def leads_rescore_all_task() -> int:
    """Re-score every lead (after a rule or threshold change), then
    enqueue qualification of the leads that now qualify."""
    return leads_rescore_all()


@shared_task(name="leads.tasks.leads_rescore_daily_task", acks_late=True, reject_on_worker_lost=True)
def leads_rescore_daily_task() -> dict:
    """The nightly re-score: leads whose inputs changed from their events, the rest by decay
    alone (a full re-score after a rule change), then qualification enqueued. Safe to repeat:
    a second run the same night finds nothing changed and moves leads by a moment's decay."""
    return leads_rescore_daily()


@shared_task(name="leads.tasks.leads_qualify_ready_task", acks_late=True, reject_on_worker_lost=True)
def leads_qualify_ready_task(batch_size: int = 1000) -> int:
    """Move up to ``batch_size`` qualifying leads to MQL, then enqueue itself while more remain
    (so a big re-score never holds one task for long)."""
    moved, more = leads_qualify_ready(limit=batch_size)
    if more and moved:
        leads_qualify_ready_task.delay(batch_size)
    return moved


@shared_task(name="leads.tasks.lead_import_run_task", acks_late=True, reject_on_worker_lost=True)
def lead_import_run_task(import_id: int) -> int:
    """Run one uploaded CSV import. Re-delivered when the worker dies: the re-run skips the
    batches already committed; a finished job is left as it is."""
    from .imports import lead_import_run

    return lead_import_run(import_id=import_id).pk


@shared_task(name="leads.tasks.leads_score_batch_task", acks_late=True, reject_on_worker_lost=True)
def leads_score_batch_task(lead_ids: list[int]) -> int:
    """Score and qualify a batch of leads (an import batch) in one set-based UPDATE."""
    return leads_score_batch(lead_ids=lead_ids)


@shared_task(name="leads.tasks.rule_set_rescore_task")
def rule_set_rescore_task(version_id: int) -> str:
    """Re-score every lead after a rule set version was saved or restored, with progress on the
    version. Safe to repeat (see ``rule_set_rescore``)."""
    return rule_set_rescore(version_id=version_id)


@shared_task(name="leads.tasks.duplicates_find_task")
def duplicates_find_task(lead_ids: list[int] | None = None) -> int:
    """Record duplicate pairs involving these leads (None: every lead, the nightly run).
    Safe to repeat: a pair already recorded is left alone."""
    return duplicates_find(lead_ids=lead_ids)
