"""Celery tasks of the sales side. Thin: take ids, call one service.

Routing (settings.CELERY_TASK_ROUTES): ``crm.tasks.handoff*`` -> the ``handoff`` queue,
everything else here -> ``sales``.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from crm.services.handoff import handoff_backlog, handoff_queue_fill, handoff_sweep, lead_handoff, sla_check, sla_warn
from crm.services.notifications import email_outbox_deliver, email_outbox_resend


@shared_task(name="crm.tasks.handoff_lead_task", acks_late=True, reject_on_worker_lost=True)
def handoff_lead_task(lead_id: int) -> int | None:
    """Hand off one qualified lead (``lead_handoff``).

    ``acks_late`` + ``reject_on_worker_lost``: the message is acknowledged only after the hand-off
    ran, so a worker killed mid-task leaves it to be delivered again. That redelivery (and any
    duplicate publish or retry) is safe because the task is idempotent: the service locks the
    lead row, re-checks for an active assignment under the lock and returns it as success, and
    the partial unique constraint on active assignments rejects a second one even if the lock
    were bypassed. The hand-off time is stamped when the task runs. Returns the assignment id.
    """
    assignment = lead_handoff(lead_id=lead_id)
    # Our lead is committed; now hand off any recent MQL still waiting (a burst queued behind
    # us, or a lead that qualified while this queue was full of duplicates). One query when
    # there is none.
    handoff_backlog(batch_size=settings.HANDOFF_BACKLOG_BATCH_SIZE, max_leads=settings.HANDOFF_SWEEP_MAX_LEADS)
    return assignment.pk if assignment else None


@shared_task(name="crm.tasks.handoff_sweep_task", acks_late=True, reject_on_worker_lost=True)
def handoff_sweep_task() -> int:
    """Periodic safety net (beat, every minute): hands off every MQL without an active
    assignment and fills waiting assignments. Idempotent for the same reasons as
    ``handoff_lead_task``; concurrent sweeps skip each other's locked rows."""
    return handoff_sweep(batch_size=settings.HANDOFF_SWEEP_BATCH_SIZE, max_leads=settings.HANDOFF_SWEEP_MAX_LEADS)


@shared_task(name="crm.tasks.handoff_queue_fill_task", acks_late=True, reject_on_worker_lost=True)
def handoff_queue_fill_task(queue_id: int) -> int:
    """Room appeared in a queue (a rejection or reassignment): assign its waiting leads."""
    return handoff_queue_fill(queue_id=queue_id)


@shared_task(name="crm.tasks.sla_check_task", acks_late=True, reject_on_worker_lost=True)
def sla_check_task() -> int:
    """Periodic (beat, every minute): record overdue first touches once and reassign or
    escalate. Idempotent: a breach is recorded once per assignment under its row lock."""
    return sla_check(batch_size=settings.HANDOFF_SWEEP_BATCH_SIZE)


@shared_task(name="crm.tasks.sla_warn_task", acks_late=True, reject_on_worker_lost=True)
def sla_warn_task() -> int:
    """Periodic (beat, every minute): warn reps whose first-touch SLA is running out, once per
    assignment (``sla_warned_at`` stamped under the row lock, a unique notification key)."""
    return sla_warn()


@shared_task(name="crm.tasks.email_outbox_deliver_task", acks_late=True, reject_on_worker_lost=True)
def email_outbox_deliver_task(outbox_ids: list[int] | int) -> int:
    """The e-mail doorbell: send these outbox rows. Re-delivery after a worker died is safe:
    a row is claimed under its lock and sent only while ``sent_at`` is empty."""
    ids = [outbox_ids] if isinstance(outbox_ids, int) else list(outbox_ids)
    return email_outbox_deliver(outbox_ids=ids)


@shared_task(name="crm.tasks.email_outbox_resend_task", acks_late=True, reject_on_worker_lost=True)
def email_outbox_resend_task() -> int:
    """Periodic (beat, every minute): send outbox rows whose doorbell was lost and failed sends
    whose backoff has passed."""
    return email_outbox_resend()
