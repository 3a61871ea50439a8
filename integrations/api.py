"""The only surface of integrations that other apps import: the privacy app's erasure hook."""

from .privacy import privacy_integrations_erase

__all__ = ["privacy_integrations_erase"]
