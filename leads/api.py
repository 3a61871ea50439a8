"""The only surface of `leads` that other apps import.

Sales reports outcomes to marketing through these functions; it never writes marketing
tables itself.
"""

from .lifecycle import IllegalTransition, can_transition, lead_transition
from .models import EngagementKind, Lead, LeadTransition, LifecycleStage, Segment
from .signals import lead_qualified

__all__ = [
    "EngagementKind",
    "IllegalTransition",
    "Lead",
    "LeadTransition",
    "LifecycleStage",
    "Segment",
    "can_transition",
    "lead_qualified",
    "lead_transition",
]
