"""Rollups behind the manager reports: aggregates rebuilt periodically (beat) so a report page
sums a few hundred rows instead of reading every lead of its period."""

from __future__ import annotations

import time

from django.db import transaction
from django.db.models import F
from django.db.models.functions import TruncDate
from django.utils import timezone

from leads.api import Lead
from reports.models import FunnelRollup, ReportRollupRun


def funnel_rollup_refresh() -> ReportRollupRun:
    """Rebuild the funnel rollup whole: every lead counted per day of creation (in the current
    time zone), source and furthest funnel stage reached, the same computation as the funnel
    report's live count (``reports.selectors.funnel.reached_counts``) over all leads.

    One transaction: readers see the old rows or the new ones, never a mix. The run's row is
    locked first, so two refreshes at once (an overlap of beat runs) take turns instead of both
    inserting."""
    from reports.selectors.funnel import ROLLUP_NAME, reached_counts

    started = time.perf_counter()
    with transaction.atomic():
        run, _created = ReportRollupRun.objects.select_for_update().get_or_create(
            name=ROLLUP_NAME, defaults={"refreshed_at": timezone.now(), "time_zone": ""}
        )
        # stamped when the counting starts: what changes after it is left to the next run
        refreshed_at = timezone.now()
        counts = reached_counts(Lead.objects.all(), {"_day": TruncDate("created_at"), "_source": F("source")})
        FunnelRollup.objects.all().delete()
        FunnelRollup.objects.bulk_create(
            [
                FunnelRollup(day=day, source=source, furthest=rank, leads=n)
                for (day, source), by_rank in counts.items()
                for rank, n in by_rank.items()
                if n
            ],
            batch_size=2000,
        )
        run.refreshed_at = refreshed_at
        run.time_zone = timezone.get_current_timezone_name()
        run.duration_ms = round((time.perf_counter() - started) * 1000)
        run.save(update_fields=["refreshed_at", "time_zone", "duration_ms"])
    return run
