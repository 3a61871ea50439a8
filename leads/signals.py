"""Signals that marketing sends. `crm` subscribes; `leads` never imports `crm`."""

from django.dispatch import Signal

# Sent on commit after a lead became an MQL. Arguments: lead_id.
lead_qualified = Signal()

# Events marketing announces to other systems (integrations subscribes in its ready()). Sent
# INSIDE the transaction of the change, so a receiver's rows (the webhook outbox) commit or
# roll back with it; a receiver must only write rows, never call out. Arguments: event (one of
# LEAD_EVENTS), payloads (a list of JSON-ready dicts, one per lead).
LEAD_EVENTS = ("lead.created", "lead.qualified", "lead.handed_off")
lead_events = Signal()


def lead_events_announce(event: str, payloads: list[dict]) -> None:
    if payloads:
        lead_events.send(sender="leads", event=event, payloads=payloads)
