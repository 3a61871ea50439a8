"""Row locks on leads for other apps' services (through ``leads.api``): one place, one order.

Several leads are always locked in primary-key order, so two transactions locking overlapping
sets cannot deadlock on each other's leads. Call inside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import Lead


def leads_lock(*, ids: Iterable[int]) -> list[Lead]:
    """Lock the leads with these ids (``SELECT ... FOR UPDATE``); returns them in pk order
    (ids that do not exist are left out)."""
    return list(Lead.objects.select_for_update().filter(pk__in=list(ids)).order_by("pk"))


def lead_lock(*, lead_id: int) -> Lead | None:
    """Lock one lead; None when it does not exist."""
    return Lead.objects.select_for_update().filter(pk=lead_id).first()
