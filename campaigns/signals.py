"""Signals that campaigns sends."""

from django.dispatch import Signal

# Events announced to other systems (integrations subscribes in its ready()). Sent INSIDE the
# transaction of the change; a receiver must only write rows. Arguments: event (one of
# CAMPAIGN_EVENTS), payloads (a list of JSON-ready dicts).
CAMPAIGN_EVENTS = ("customer.feedback",)
campaign_events = Signal()


def campaign_events_announce(event: str, payloads: list[dict]) -> None:
    if payloads:
        campaign_events.send(sender="campaigns", event=event, payloads=payloads)


# A lead opened a tracked collateral link. Sent INSIDE the view's transaction (crm writes the
# rep's notification in it). Arguments: share_id, lead_id, shared_by_id, title.
collateral_viewed = Signal()
