"""Row locks for the sales services: one helper, one order.

Every crm service that changes sales state locks its rows through a ``SalesLocks``, in this
order and only in this order:

    1. leads        (primary-key order; through ``leads.api``)
    2. assignments  (primary-key order)
    3. deals        (primary-key order)
    4. accounts     (primary-key order)
    then queue memberships (``crm.routing``: queue priority, then primary key)

Two transactions that take overlapping rows in the same order wait for each other instead of
deadlocking. A service that must first *find* its rows (the assignment named in a request, the
overdue assignments of the SLA check, a deal's lead) reads them without a lock, locks in this
order, and re-checks what it read under the locks. Asking a ``SalesLocks`` for rows of an
earlier rank after a later one raises ``LockOrderError``, so a code path that breaks the order
fails its tests instead of deadlocking under load. Call inside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from leads import api as leads_api

from .models import Account, Assignment, Deal

ORDER = ("lead", "assignment", "deal", "account")


class LockOrderError(RuntimeError):
    """Rows of an earlier rank were asked for after rows of a later one."""


class SalesLocks:
    """The locks one service call takes, checked against ``ORDER`` as they are taken."""

    def __init__(self) -> None:
        self._rank = -1

    def _take(self, kind: str) -> None:
        rank = ORDER.index(kind)
        if rank < self._rank:
            raise LockOrderError(
                f"{kind} rows locked after {ORDER[self._rank]} rows; the order is {' -> '.join(ORDER)}."
            )
        self._rank = rank

    def leads(self, ids: Iterable[int], *, skip_locked: bool = False, only: Iterable[str] = ()) -> list[leads_api.Lead]:
        """Lock these leads in pk order (with ``skip_locked``, those another transaction holds
        are left out; ``only`` loads just those columns)."""
        self._take("lead")
        return leads_api.leads_lock(ids=ids, skip_locked=skip_locked, only=only)

    def leads_held(self) -> None:
        """The caller's transaction locked its leads already (a lead merge, in ``leads``): go on
        from the assignments."""
        self._take("lead")

    def lead(self, lead_id: int) -> leads_api.Lead | None:
        self._take("lead")
        return leads_api.lead_lock(lead_id=lead_id)

    def assignments(self, rows: QuerySet[Assignment]) -> list[Assignment]:
        """Lock the assignments of ``rows`` (their own rows only, not joined ones) in pk order."""
        self._take("assignment")
        return list(rows.select_for_update(of=("self",)).order_by("pk"))

    def assignment(self, rows: QuerySet[Assignment], pk: int) -> Assignment | None:
        found = self.assignments(rows.filter(pk=pk))
        return found[0] if found else None

    def deals(self, rows: QuerySet[Deal]) -> list[Deal]:
        self._take("deal")
        return list(rows.select_for_update(of=("self",)).order_by("pk"))

    def deal(self, rows: QuerySet[Deal], pk: int) -> Deal | None:
        found = self.deals(rows.filter(pk=pk))
        return found[0] if found else None

    def account(self, pk: int) -> Account:
        self._take("account")
        return Account.objects.select_for_update(of=("self",)).get(pk=pk)
