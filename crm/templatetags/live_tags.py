from django import template
from django.conf import settings
from django.urls import reverse

from ..live import live_token

register = template.Library()


@register.simple_tag
def live_poll_url(user) -> str:
    """The signed poll URL of the page's user (no database query)."""
    return f"{reverse('crm:live-poll')}?t={live_token(user)}"


@register.simple_tag
def live_poll_seconds() -> int:
    return settings.LIVE_POLL_SECONDS
