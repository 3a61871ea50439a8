"""Celery tasks of the reports (the ``sales`` queue). Thin: call one service."""

from __future__ import annotations

from celery import shared_task

from reports.services import funnel_rollup_refresh


@shared_task(name="reports.tasks.funnel_rollup_refresh_task")
def funnel_rollup_refresh_task() -> int:
    """Periodic (beat, every ``REPORTS_FUNNEL_ROLLUP_MINUTES``): rebuild the funnel report's
    rollup. Idempotent (a whole rebuild under a row lock). Returns how long it took, in ms."""
    return funnel_rollup_refresh().duration_ms
