"""What other apps may import from crm (today only the reports read sales data).

The reports aggregate sales rows in SQL, so they read these models and choices; nothing here
writes. The sales side's own code uses ``crm.services`` and ``crm.selectors``.
"""

from .business_hours import add_business_minutes
from .models import (
    CONNECTED_OUTCOMES,
    OPEN_FOR_REP_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    CallOutcome,
    Deal,
    DealStage,
    ObjectionNote,
    RejectReason,
    SalesQueue,
)
from .privacy import privacy_crm_erase, privacy_crm_export, privacy_crm_open_deals
from .services.notifications import notification_send
from .signals import SALES_EVENTS, sales_events

__all__ = [
    "add_business_minutes",
    "privacy_crm_erase",
    "privacy_crm_export",
    "privacy_crm_open_deals",
    "CONNECTED_OUTCOMES",
    "OPEN_FOR_REP_STATUSES",
    "Assignment",
    "AssignmentStatus",
    "Call",
    "CallOutcome",
    "Deal",
    "DealStage",
    "ObjectionNote",
    "RejectReason",
    "SALES_EVENTS",
    "SalesQueue",
    "notification_send",
    "sales_events",
]
