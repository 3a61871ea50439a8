"""Signals that marketing sends. `crm` subscribes; `leads` never imports `crm`."""

from django.dispatch import Signal

# Sent on commit after a lead became an MQL. Arguments: lead_id.
lead_qualified = Signal()
