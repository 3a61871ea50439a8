"""Where a webhook may point: https outside DEBUG, and (in production) never at a private,
loopback, link-local or otherwise internal address, checked on every resolved address at
registration and again before every send (a name can be re-pointed after registration)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def target_check(url: str) -> None:
    """Raise a ValidationError on ``url`` when Baton must not send to it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": "Enter a full http(s) URL, e.g. https://example.com/hooks/baton."})
    if settings.WEBHOOKS_REQUIRE_HTTPS and parts.scheme != "https":
        raise ValidationError({"url": "Webhook URLs must use https."})
    if parts.username or parts.password:
        raise ValidationError({"url": "Put no user name or password in the URL; the signature authenticates Baton."})
    if settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError({"url": "The port is not a number from 1 to 65535."}) from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise ValidationError({"url": f"The host {parts.hostname[:100]} does not resolve."}) from None
    for info in infos:
        if _internal(info[4][0]):
            raise ValidationError(
                {"url": f"{parts.hostname[:100]} resolves to {info[4][0]}, a private or local address."}
            )
