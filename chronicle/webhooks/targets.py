"""Where Chronicle may send webhooks: http(s) URLs whose host is on the public internet.

Without this a partner could register http://127.0.0.1:6379/ or a cloud metadata address
and make Chronicle call into its own network. The host is resolved and every address it
resolves to is checked, at registration and again before each attempt (a name can be
pointed elsewhere later). WEBHOOKS_ALLOW_PRIVATE_ADDRESSES lets an operator allow
loopback, private and link-local addresses (for a receiver inside their own network).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeTarget(ValueError):
    """The URL is not one Chronicle will send to; the message says why."""


def check(url: str) -> None:
    """Raise UnsafeTarget unless `url` is an http(s) URL Chronicle may call."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeTarget(f"This is not a valid URL ({error}).") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("Use an http:// or https:// URL.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("Put no user name or password in the URL; verify the signature instead.")
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return
    try:
        found = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise UnsafeTarget(f"The host {parts.hostname!r} cannot be resolved.") from None
    for *_, address in found:
        ip = ipaddress.ip_address(address[0].split("%")[0])
        if not _public(ip):
            raise UnsafeTarget(
                f"The host {parts.hostname!r} is at {ip}, a loopback, private, link-local or reserved "
                "address; webhooks go only to public addresses."
            )


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
