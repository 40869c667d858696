"""What a compiled rule reads, and when its answer can change without new readings.

The engine evaluates a rule again only when something it reads changed or time
reached one of its deadlines. This module tells, from a rule's expression nodes:

- which points it reads, and how (`Watch`): by value (a state, a threshold), by
  history (``change`` and ``rate`` compare with the previous reading), or by time
  (``age`` and ``skew`` depend on the reading's timestamp, new at every poll);
- which tables it counts over the whole site (``over: site``), whose changes on any
  device concern it;
- for rules whose answer moves with the clock alone (``age``, ``during``), the next
  time it can change (`next_change`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from enum import IntEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from gateway.rules.expressions import (
    AggregateNode,
    CheckNode,
    Combined,
    DuringNode,
    Node,
    NotNode,
    Scope,
    SeenNode,
    as_number,
    good,
)


class Watch(IntEnum):
    """How a point is read; a larger value is a stricter test of "unchanged"."""

    VALUE = 1  # the value and its quality
    HISTORY = 2  # and the previous value (change, rate)
    TIME = 3  # and the reading's time (age, skew): changed at every reading


_MEASURE_WATCH = {
    "value": Watch.VALUE,
    "change": Watch.HISTORY,
    "rate": Watch.HISTORY,
    "age": Watch.TIME,
    "skew": Watch.TIME,
}
_ORDERED = frozenset({"gt", "ge", "lt", "le", "eq", "ne"})


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Combined):
        return node.parts
    if isinstance(node, NotNode | AggregateNode):
        return (node.part,)
    return ()


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in children(node):
        yield from walk(child)


def points_read(node: Node) -> dict[str, Watch]:
    """Every point the node reads (on this device or, over the site, on others)."""
    out: dict[str, Watch] = {}
    for part in walk(node):
        if isinstance(part, CheckNode):
            watch = _MEASURE_WATCH[part.measure]
            out[part.ref.point] = max(out.get(part.ref.point, watch), watch)
            if part.per is not None:
                out.setdefault(part.per.point, Watch.VALUE)
        elif isinstance(part, SeenNode):
            out.setdefault(part.ref.point, Watch.VALUE)
    return out


def site_reads(node: Node) -> tuple[frozenset[str], dict[str, Watch]]:
    """The tables counted over the whole site, and the points those counts read."""
    tables: set[str] = set()
    points: dict[str, Watch] = {}
    for part in walk(node):
        if isinstance(part, AggregateNode) and part.over_site:
            tables.add(part.table)
            for point, watch in points_read(part.part).items():
                points[point] = max(points.get(point, watch), watch)
    return frozenset(tables), points


def timed(node: Node) -> bool:
    """Can the node's answer change with the clock alone?"""
    return any(
        isinstance(part, DuringNode) or (isinstance(part, CheckNode) and part.measure == "age")
        for part in walk(node)
    )


def next_change(node: Node, scope: Scope) -> datetime | None:
    """The earliest time at or after ``scope.now`` at which the node's answer may
    change with no new readings; None when it cannot. A time equal to ``now`` asks
    for one more look at the next tick (a strict test at its very boundary)."""
    if isinstance(node, DuringNode):
        return _next_minute(scope.now, node.window.tz)
    if isinstance(node, CheckNode):
        return _age_crossing(node, scope) if node.measure == "age" else None
    if isinstance(node, AggregateNode):
        if not timed(node.part):
            return None
        sources = [v for v in scope.site if v.answering] if node.over_site else [scope.values]
        found = [
            next_change(node.part, replace(scope, values=values, instance=instance))
            for values in sources
            for instance in values.instances_of(node.table)
        ]
        return min((t for t in found if t is not None), default=None)
    times = [next_change(child, scope) for child in children(node)]
    return min((t for t in times if t is not None), default=None)


def _age_crossing(node: CheckNode, scope: Scope) -> datetime | None:
    """When the age (divided by ``per``) crosses a limit of the node's tests."""
    sample = node.ref.sample(scope)
    since = sample.reading.ts if sample is not None else scope.values.first_seen
    if since is None:
        return None
    divisor = 1.0
    if node.per is not None:
        found = as_number(good(node.per.sample(scope)))
        if not found:
            return None  # no divisor: the measure is unknown until ``per`` is read
        divisor = found
    crossings = []
    for op, limit in node.limits:
        if op not in _ORDERED or isinstance(limit, bool) or not isinstance(limit, int | float):
            return scope.now  # a test whose boundary cannot be told: look at every tick
        crossing = since + timedelta(seconds=float(limit) * divisor)
        if crossing >= scope.now:
            crossings.append(crossing)
    return min(crossings, default=None)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _next_minute(now: datetime, tz: str) -> datetime:
    """The next start of a minute in the window's zone: a window's answer changes
    only there (it compares hours and minutes)."""
    local = now.astimezone(_zone(tz))
    return now + timedelta(seconds=60 - local.second, microseconds=-local.microsecond)
