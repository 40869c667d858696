"""What discovery may send to: the address ranges and ports it was given, nothing else.

Every request goes through ``ScopedClient``, which refuses a target outside the scope
before anything is sent, so that an address learned from a device (an LLDP neighbour's
management address, an ARP entry) is never probed unless it lies in a given range.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from drivers.snmp import SnmpClient, SnmpError, SnmpTarget, VarBind

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LARGEST_UNASKED = 1024  # addresses (a /22): more needs --yes
MAX_ADDRESSES = 65536  # a /16: more is not a site


class ScopeError(ValueError):
    """A range or port list that cannot be used (bad syntax, too large)."""


def parse_ports(text: str) -> tuple[int, ...]:
    """``161``, ``1161,1162`` or ``20000-20015`` (or a mix) -> the ports, in order."""
    ports: list[int] = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high) if dash else int(low)
        except ValueError:
            raise ScopeError(f"not a port or port range: {part.strip()!r}") from None
        if not 1 <= first <= last <= 65535:
            raise ScopeError(f"ports are 1-65535, low to high: {part.strip()!r}")
        if last - first >= 1024:
            raise ScopeError(f"at most 1024 ports in a range: {part.strip()!r}")
        ports += [p for p in range(first, last + 1) if p not in ports]
    return tuple(ports)


def parse_networks(texts: Sequence[str]) -> tuple[Network, ...]:
    networks: list[Network] = []
    for text in texts:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError as exc:
            raise ScopeError(f"not an address range (CIDR): {text!r}: {exc}") from None
        if network not in networks:
            networks.append(network)
    return tuple(networks)


def hosts(network: Network) -> Iterator[str]:
    """The addresses a sweep of ``network`` probes: its hosts (every address of a
    /31 or /32)."""
    if network.num_addresses <= 2:
        yield from (str(a) for a in network)
    else:
        yield from (str(a) for a in network.hosts())


@dataclass(frozen=True, slots=True)
class Scope:
    networks: tuple[Network, ...]
    ports: tuple[int, ...]

    @property
    def size(self) -> int:
        """How many addresses the sweep probes."""
        return len(self.addresses())

    def addresses(self) -> list[str]:
        return list(dict.fromkeys(a for network in self.networks for a in hosts(network)))

    def contains(self, host: str, port: int | None = None) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False  # a name: never resolved, never probed
        inside = any(address in network for network in self.networks)
        return inside and (port is None or port in self.ports)

    def check_size(self, allow_large: bool) -> None:
        size = self.size
        if size > MAX_ADDRESSES:
            raise ScopeError(f"{size} addresses: at most {MAX_ADDRESSES} (a /16) in one sweep")
        if size > LARGEST_UNASKED and not allow_large:
            raise ScopeError(
                f"{size} addresses, more than a /22 ({LARGEST_UNASKED}): give --yes to sweep them"
            )


class OutOfScope(SnmpError):
    """A request to an address or port outside the given ranges (never sent)."""


class ScopedClient:
    """An SnmpClient that sends only inside ``scope`` (implements SnmpClient)."""

    def __init__(self, inner: SnmpClient, scope: Scope) -> None:
        self.inner = inner
        self.scope = scope

    def _check(self, target: SnmpTarget) -> None:
        if not self.scope.contains(target.host, target.port):
            raise OutOfScope(f"{target.host}:{target.port} is outside the ranges given")

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        self._check(target)
        return await self.inner.get(target, oids)

    async def walk(
        self, target: SnmpTarget, roots: Sequence[str], max_repetitions: int = 25
    ) -> list[VarBind]:
        self._check(target)
        return await self.inner.walk(target, roots, max_repetitions)

    async def close(self) -> None:
        await self.inner.close()
