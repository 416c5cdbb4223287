"""Where a connector may send secrets: https anywhere, plain http only to this machine.

Logins, tokens and access URLs must never cross a network in clear text; tests
and self-hosters' local servers still need plain http on the loopback interface.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_secret_url(url: str) -> str | None:
    """Why secrets may not be sent to `url` ("must use https", ...), or None when they may."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "is not a valid URL"
    if not host:
        return "has no host"
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host)):
        return None
    return "must use https"
