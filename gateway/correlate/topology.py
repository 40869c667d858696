"""The site's device tree as the correlation stage sees it: who is reached through whom.

Every device hangs off its ``parent`` (site file); a device without one hangs off
the pseudo-device ``gateway``, the gateway itself, so that the whole site is one
tree with the gateway at its root.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.config.load import LoadedConfig
from gateway.config.rules import UnreachableRule
from gateway.correlate.errors import TopologyError
from gateway.model import Condition

# The gateway itself, as a device of its own site: the root of the tree, and the
# device of the conditions about the gateway's own network.
GATEWAY = "gateway"
GATEWAY_KIND = "gateway"

# The poll counts of the unreachable rule when a profile has none (its device can
# then never be a root of its own, but its timing still paces waiting for it).
DEFAULT_RAISE_AFTER, DEFAULT_CLEAR_AFTER = 3, 2


@dataclass(frozen=True, slots=True)
class Node:
    """One device: its place in the tree and the timing of its unreachable rule."""

    id: str
    parent: str  # GATEWAY for a top-level device
    interval: float  # seconds between polls
    unreachable_code: str | None  # None: its profile has no unreachable rule
    raise_after: int = DEFAULT_RAISE_AFTER
    clear_after: int = DEFAULT_CLEAR_AFTER

    @property
    def raise_time(self) -> timedelta:
        """The longest the rules take to raise its unreachability once it stops answering."""
        return timedelta(seconds=(self.raise_after + 1) * self.interval)

    @property
    def clear_time(self) -> timedelta:
        """The longest the rules take to clear it once it answers again."""
        return timedelta(seconds=(self.clear_after + 1) * self.interval)

    def outage_began(self, raised_at: datetime) -> datetime:
        """When it stopped answering, estimated from when its condition was raised:
        the first of the ``raise_after`` failed polls."""
        return raised_at - timedelta(seconds=(self.raise_after - 1) * self.interval)


class Topology:
    """Parents, children and timings of every device of a site."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes: dict[str, Node] = {}
        for node in nodes:
            if node.id == GATEWAY:
                raise TopologyError(
                    f"a device may not be called {GATEWAY!r}: that id names the gateway itself"
                )
            self.nodes[node.id] = node
        children: dict[str, list[str]] = {GATEWAY: []}
        for node in self.nodes.values():
            if node.parent != GATEWAY and node.parent not in self.nodes:
                raise TopologyError(f"device {node.id!r}: no parent device {node.parent!r}")
            children.setdefault(node.parent, []).append(node.id)
        self.children: dict[str, tuple[str, ...]] = {p: tuple(c) for p, c in children.items()}
        self._depth: dict[str, int] = {}
        for device in self.nodes:
            self._depth[device] = len(self.ancestors(device))

    @classmethod
    def from_config(cls, config: LoadedConfig) -> Topology:
        nodes = []
        for device in config.devices:
            rule = next(
                (r for r in config.profile_of(device).rules if isinstance(r, UnreachableRule)),
                None,
            )
            nodes.append(
                Node(
                    id=device.id,
                    parent=device.parent or GATEWAY,
                    interval=device.interval,
                    unreachable_code=rule.code if rule else None,
                    raise_after=rule.raise_after if rule else DEFAULT_RAISE_AFTER,
                    clear_after=rule.clear_after if rule else DEFAULT_CLEAR_AFTER,
                )
            )
        return cls(nodes)

    def __contains__(self, device: object) -> bool:
        return device in self.nodes

    def parent(self, device: str) -> str:
        return self.nodes[device].parent

    def ancestors(self, device: str) -> list[str]:
        """The devices it is reached through, nearest first (the gateway not included)."""
        chain: list[str] = []
        current = self.nodes[device].parent
        while current != GATEWAY:
            if current in chain or current == device:
                raise TopologyError(f"device {device!r}: its parents form a loop")
            chain.append(current)
            current = self.nodes[current].parent
        return chain

    def descendants(self, device: str) -> list[str]:
        """Every device reached through ``device`` (or the whole site, for GATEWAY),
        parents before their children."""
        out: list[str] = []
        frontier = list(self.children.get(device, ()))
        while frontier:
            out.extend(frontier)
            frontier = [c for d in frontier for c in self.children.get(d, ())]
        return out

    def depth(self, device: str) -> int:
        """0 for a top-level device, 1 for its children..."""
        return self._depth[device]

    def top_level(self) -> tuple[str, ...]:
        return self.children[GATEWAY]

    def is_unreachable(self, condition: Condition) -> bool:
        """Whether ``condition`` is its device's unreachability (the dependency fault)."""
        node = self.nodes.get(condition.device)
        return (
            node is not None
            and condition.code == node.unreachable_code
            and not (condition.instance)
        )
