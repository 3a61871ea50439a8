"""Receivers of the crm app. Connected on import from CrmConfig.ready()."""

from django.db import transaction
from django.dispatch import receiver

from campaigns.api import collateral_viewed
from leads.api import lead_qualified


@receiver(lead_qualified, dispatch_uid="crm.receivers.handoff_on_lead_qualified")
def handoff_on_lead_qualified(sender, lead_id: int, **kwargs) -> None:
    """Enqueue the hand-off once the qualifying transaction commits; nothing else.

    If the publish fails (the broker is down) the lead is still an MQL without an assignment,
    and the periodic sweep hands it off: the signal is the fast path, not the guarantee.
    """
    from crm.tasks import handoff_lead_task

    transaction.on_commit(lambda: _enqueue(handoff_lead_task, lead_id))


def _enqueue(task, lead_id: int) -> None:
    # A lead a backlog drain or a sweep already assigned needs no message: in a burst those
    # would be thousands of no-ops queued in front of real work.
    from crm.models import Assignment

    if Assignment.objects.active().filter(lead_id=lead_id).exists():
        return
    try:
        task.delay(lead_id)
    except Exception:  # noqa: BLE001 - a broker outage must not break the qualifying request
        import logging

        logging.getLogger(__name__).warning(
            "could not enqueue the hand-off of lead %s; the sweep will pick it up", lead_id, exc_info=True
        )


@receiver(collateral_viewed, dispatch_uid="crm.receivers.notify_rep_of_collateral_view")
def notify_rep_of_collateral_view(sender, share_id: int, lead_id: int, shared_by_id, title: str, **kwargs) -> None:
    """The lead's rep (its owner, else whoever shared the link) hears of the first view of a
    shared item; later views of the same link only score. Runs in the view's transaction."""
    from crm.services.notifications import collateral_view_notify

    collateral_view_notify(share_id=share_id, lead_id=lead_id, shared_by_id=shared_by_id, title=title)
