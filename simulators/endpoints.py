"""``HOST:PORT`` endpoints and IPv4 addresses, checked without heavy imports."""

from __future__ import annotations

import ipaddress


def check_ipv4(value: str) -> str:
    try:
        ipaddress.IPv4Address(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IPv4 address") from exc
    return value


def check_endpoint(value: str) -> str:
    """``HOST:PORT`` with an IPv4 literal host (port 0 allowed: pick a free one)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not HOST:PORT")
    check_ipv4(host)
    return value


def split_endpoint(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host, int(port)
