"""Is the gateway's own network down? Read from the kernel's tables (Linux).

Consulted when a top-level device stops answering: if the gateway's own link is
down, the devices are not at fault and one condition on the gateway says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("lvgw.correlate")

# Why the gateway's own network is down, or None when it looks fine (or cannot be told).
LinkCheck = Callable[[], str | None]

_RTF_UP = 0x1
_UP_STATES = frozenset({"up", "unknown"})  # "unknown": links without carrier state (tun, ppp)


class HostLink:
    """The gateway's link from /proc/self/net/route and /sys/class/net/<if>/operstate.

    A problem is: every interface that carries the default route is down; or the
    default route, once seen, is gone (a lost DHCP lease, a cable pulled with a
    network manager that removes routes). A gateway that never had a default route
    (an isolated site LAN) is judged by the interfaces of its other routes.
    Unreadable tables (another OS, a sandbox) mean "cannot tell": no problem.
    """

    def __init__(
        self,
        # /proc/self/net, not /proc/net: the unit's ProcSubset=pid hides the latter.
        route_table: Path = Path("/proc/self/net/route"),
        interfaces: Path = Path("/sys/class/net"),
    ) -> None:
        self.route_table = route_table
        self.interfaces = interfaces
        self.had_default = False

    def __call__(self) -> str | None:
        return self.problem()

    def problem(self) -> str | None:
        routes = self._routes()
        if routes is None:
            return None
        defaults = sorted({iface for iface, dest in routes if dest == 0})
        if defaults:
            self.had_default = True
            return self._all_down(defaults, "of the default route")
        if self.had_default:
            return "the default route is gone"
        others = sorted({iface for iface, _ in routes if iface != "lo"})
        return self._all_down(others, "with a route") if others else None

    def _all_down(self, ifaces: list[str], role: str) -> str | None:
        states = {iface: self._state(iface) for iface in ifaces}
        if any(state in _UP_STATES for state in states.values()):
            return None
        shown = ", ".join(f"{iface} {state}" for iface, state in states.items())
        return f"network interface {role} is down: {shown}"

    def _routes(self) -> list[tuple[str, int]] | None:
        """(interface, destination) of every route that is up; None when unreadable."""
        try:
            lines = self.route_table.read_text(encoding="ascii").splitlines()
        except OSError as exc:
            log.debug("routing table unreadable path=%s error=%r", self.route_table, exc)
            return None
        routes = []
        for line in lines[1:]:  # the first line names the columns
            fields = line.split()
            if len(fields) < 4:
                continue
            try:
                destination, flags = int(fields[1], 16), int(fields[3], 16)
            except ValueError:
                continue
            if flags & _RTF_UP:
                routes.append((fields[0], destination))
        return routes

    def _state(self, iface: str) -> str:
        try:
            return (self.interfaces / iface / "operstate").read_text(encoding="ascii").strip()
        except OSError:
            return "missing"
