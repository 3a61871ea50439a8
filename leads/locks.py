"""Row locks on leads for other apps' services (through ``leads.api``): one place, one order.

Several leads are always locked in primary-key order, so two transactions locking overlapping
sets cannot deadlock on each other's leads. Call inside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from .models import Lead


def leads_lock(*, ids: Iterable[int], skip_locked: bool = False, only: Iterable[str] = ()) -> list[Lead]:
    """Lock the leads with these ids (``SELECT ... FOR UPDATE``); returns them in pk order
    (ids that do not exist are left out; with ``skip_locked``, so are those another
    transaction holds). ``only`` loads just those columns."""
    rows = Lead.objects.select_for_update(skip_locked=skip_locked).filter(pk__in=list(ids)).order_by("pk")
    return list(rows.only(*only) if only else rows)


def lead_lock(*, lead_id: int) -> Lead | None:
    """Lock one lead; None when it does not exist."""
    return Lead.objects.select_for_update().filter(pk=lead_id).first()


# --- re-scoring every lead: one at a time ---------------------------------------------------
# Two statements that each rewrite every lead row lock the rows in their own order and can
# deadlock each other (seed_demo's queued re-scores did, several times a run). PostgreSQL
# advisory locks make them take turns instead: ``RESCORE_RUNNING`` is held (transaction scope)
# by the re-score that is writing, ``RESCORE_WAITING`` (session scope) by at most one that waits
# to go next. Keys are arbitrary constants of ours ("baton" + n).
RESCORE_RUNNING = 0x6261746F6E01
RESCORE_WAITING = 0x6261746F6E02


def _advisory(sql: str, key: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    return bool(row[0]) if row and row[0] is not None else True


@contextmanager
def rescore_all_turn() -> Iterator[bool]:
    """A transaction in which this caller may re-score every lead; yields False when it should
    skip instead.

    It skips when another re-score is already waiting for the running one: that one takes its
    turn (and reads the rules) after our trigger was committed, so it covers it; the extra
    ones would only repeat the same work. Otherwise it waits for the running one to commit.
    A killed worker's connection closes and PostgreSQL drops its locks. On SQLite writers are
    serialised by the database itself.
    """
    if connection.vendor != "postgresql":
        with transaction.atomic():
            yield True
        return
    if not _advisory("SELECT pg_try_advisory_lock(%s)", RESCORE_WAITING):
        yield False
        return
    waiting = True
    try:
        with transaction.atomic():
            _advisory("SELECT pg_advisory_xact_lock(%s)", RESCORE_RUNNING)
            _advisory("SELECT pg_advisory_unlock(%s)", RESCORE_WAITING)
            waiting = False
            yield True
    finally:
        if waiting:
            _advisory("SELECT pg_advisory_unlock(%s)", RESCORE_WAITING)


def rescore_lock(*, shared: bool = False) -> None:
    """Take the re-score lock for the current transaction: exclusive for a statement over a
    range of every lead (a chunk of a rule-set re-score), shared for a batch of chosen leads
    (an import batch: batches do not block each other, only a re-score of everyone)."""
    if connection.vendor == "postgresql":
        fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        _advisory(f"SELECT {fn}(%s)", RESCORE_RUNNING)
