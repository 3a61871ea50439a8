"""integrations listens to what the product apps announce (inside their transactions) and
writes the webhook outbox rows there; the apps never import integrations."""

from campaigns.api import campaign_events
from crm.api import sales_events
from leads.api import lead_events

from .webhooks import outbox_record


def record_event(sender, event: str, payloads: list[dict], **kwargs) -> None:
    outbox_record(event=event, payloads=payloads)


lead_events.connect(record_event, dispatch_uid="integrations.lead_events")
sales_events.connect(record_event, dispatch_uid="integrations.sales_events")
campaign_events.connect(record_event, dispatch_uid="integrations.campaign_events")
