"""The status page's listen address: parsing it, and whether it needs a token."""

from __future__ import annotations

import ipaddress


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as a host and a port; ValueError when not."""
    host, sep, port_text = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"not HOST:PORT: {text!r} (e.g. 127.0.0.1:8780)")
    return host, int(port_text)


def needs_token(host: str) -> bool:
    """Anything but a loopback address reaches the LAN: the page then requires a token."""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a host name may resolve to anything
