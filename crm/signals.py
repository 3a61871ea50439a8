"""Signals that sales sends. Nothing in the product imports their receivers."""

from django.dispatch import Signal

# Events sales announces to other systems (integrations subscribes in its ready()). Sent
# INSIDE the transaction of the change, so a receiver's rows (the webhook outbox) commit or
# roll back with it; a receiver must only write rows. Arguments: event (one of SALES_EVENTS),
# payloads (a list of JSON-ready dicts).
SALES_EVENTS = ("assignment.accepted", "assignment.rejected", "call.logged", "deal.won", "deal.lost")
sales_events = Signal()


def sales_events_announce(event: str, payloads: list[dict]) -> None:
    if payloads:
        sales_events.send(sender="crm", event=event, payloads=payloads)
