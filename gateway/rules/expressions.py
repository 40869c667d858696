"""Rule expressions compiled once into small node objects with three-valued logic.

A node's ``test`` answers True, False, or None when it cannot tell (no reading yet,
a reading of bad quality, a rate without a previous value). None neither raises nor
clears a condition: it holds the rule where it is and restarts its timers.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from gateway.config.rule_checks import TRAP_PREFIX, ReadingNames, aggregate_table
from gateway.config.rules import (
    All,
    AnyOf,
    Check,
    Count,
    During,
    Expr,
    Measure,
    Not,
    Seen,
    Share,
    TimeWindow,
    walk,
)
from gateway.model import Quality, Reading, Value
from gateway.rules.values import DeviceValues, Sample, SiteValues

Truth = bool | None
Evidence = dict[tuple[str, str], Reading]
MAX_EVIDENCE = 24  # readings attached to one condition; enough to show why, small on the wire


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an expression is judged: a device's values, at an instance, at a time;
    ``site``: the values of every device of the site (counts and shares over it)."""

    values: DeviceValues
    instance: str
    now: datetime
    site: Sequence[DeviceValues] = ()


class Node(Protocol):
    def test(self, scope: Scope) -> Truth: ...

    def evidence(self, scope: Scope, out: Evidence) -> None:
        """Add the readings this expression looked at (those that matched, for counts)."""


def all_of(truths: Sequence[Truth]) -> Truth:
    if False in truths:
        return False
    return None if None in truths else True


def any_of(truths: Sequence[Truth]) -> Truth:
    if True in truths:
        return True
    return None if None in truths else False


def negate(truth: Truth) -> Truth:
    return None if truth is None else not truth


def as_number(value: object) -> float | None:
    """A number as a float; None for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
}  # fmt: skip


def _comparator(op: str, expected: object) -> Callable[[Value], Truth]:
    if op in _ORDER:
        compare, limit = _ORDER[op], float(expected)  # type: ignore[arg-type]

        def ordered(value: Value) -> Truth:
            number = as_number(value)
            return None if number is None else compare(number, limit)

        return ordered
    if op in ("in", "not_in"):
        members = list(expected)  # type: ignore[call-overload]
        inside = op == "in"
        return lambda value: (value in members) == inside
    if op == "match":
        pattern = re.compile(str(expected))
        return lambda value: bool(pattern.search(value)) if isinstance(value, str) else None
    if op == "eq":
        return lambda value: value == expected
    return lambda value: value != expected


def good(sample: Sample | None) -> Value:
    """The sample's value when its quality is good, else None."""
    if sample is None or sample.reading.quality is not Quality.GOOD:
        return None
    return sample.reading.value


def _change(sample: Sample | None) -> float | None:
    """Difference to the previous reading, across a short outage too (a restart)."""
    if sample is None or sample.previous is None or sample.previous.quality is not Quality.GOOD:
        return None
    now, before = as_number(good(sample)), as_number(sample.previous.value)
    return None if now is None or before is None else now - before


def _rate(sample: Sample | None) -> float | None:
    """Change per second between two readings with no outage between them."""
    change = _change(sample)
    if change is None or sample is None or sample.previous is None or not sample.continuous:
        return None
    seconds = (sample.reading.ts - sample.previous.ts).total_seconds()
    return change / seconds if seconds > 0 else None


def _age(sample: Sample | None, scope: Scope) -> float | None:
    since = sample.reading.ts if sample is not None else scope.values.first_seen
    return None if since is None else (scope.now - since).total_seconds()


def _skew(sample: Sample | None) -> float | None:
    """Seconds between a device's clock (epoch seconds or ISO 8601) and the reading time."""
    value = good(sample)
    if sample is None or value is None:
        return None
    number = as_number(value)
    if number is not None:
        return abs(number - sample.reading.ts.timestamp())
    if not isinstance(value, str):
        return None
    try:
        clock = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    clock = clock if clock.tzinfo is not None else clock.replace(tzinfo=UTC)
    return abs((clock - sample.reading.ts).total_seconds())


_MEASURES: dict[Measure, Callable[[Sample | None, Scope], Value]] = {
    "value": lambda sample, _scope: good(sample),
    "change": lambda sample, _scope: _change(sample),
    "rate": lambda sample, _scope: _rate(sample),
    "age": _age,
    "skew": lambda sample, _scope: _skew(sample),
}


@dataclass(frozen=True, slots=True)
class PointRef:
    """A reading name as a rule reads it: at the scope's instance, or the scalar."""

    point: str
    per_instance: bool  # a table column (or a trap reading in a per-instance rule)

    def sample(self, scope: Scope) -> Sample | None:
        return scope.values.get(self.point, scope.instance if self.per_instance else "")


@dataclass(frozen=True, slots=True)
class CheckNode:
    ref: PointRef
    measure: Measure
    tests: tuple[tuple[str, Callable[[Value], Truth]], ...]  # (operator, test)
    per: PointRef | None = None
    limits: tuple[tuple[str, object], ...] = ()  # (operator, operand): the tests as written

    def test(self, scope: Scope) -> Truth:
        sample = self.ref.sample(scope)
        measured = _MEASURES[self.measure](sample, scope)
        if measured is not None and self.per is not None:
            divisor = as_number(good(self.per.sample(scope)))
            number = as_number(measured)
            measured = number / divisor if number is not None and divisor else None
        if measured is None:
            return None
        if self.measure == "age" and sample is None:
            # Never read: the age is at least the time since the device was first
            # seen, which can prove "older than", never "younger than".
            return all_of(
                [test(measured) if op in ("gt", "ge") else None for op, test in self.tests]
            )
        return all_of([test(measured) for _op, test in self.tests])

    def evidence(self, scope: Scope, out: Evidence) -> None:
        for ref in (self.ref, self.per):
            sample = ref.sample(scope) if ref is not None else None
            if sample is not None and len(out) < MAX_EVIDENCE:
                out.setdefault((sample.reading.point, sample.reading.instance), sample.reading)


@dataclass(frozen=True, slots=True)
class SeenNode:
    ref: PointRef
    targets: frozenset[Value]

    def test(self, scope: Scope) -> Truth:
        instance = scope.instance if self.ref.per_instance else ""
        if scope.values.get(self.ref.point, instance) is None:
            return None
        return bool(scope.values.seen.get((self.ref.point, instance), set()) & self.targets)

    def evidence(self, scope: Scope, out: Evidence) -> None:
        return None  # what was seen earlier is not a reading of now


@dataclass(frozen=True, slots=True)
class Combined:
    parts: tuple[Node, ...]
    combine: Callable[[Sequence[Truth]], Truth]

    def test(self, scope: Scope) -> Truth:
        return self.combine([part.test(scope) for part in self.parts])

    def evidence(self, scope: Scope, out: Evidence) -> None:
        for part in self.parts:
            part.evidence(scope, out)


@dataclass(frozen=True, slots=True)
class NotNode:
    part: Node

    def test(self, scope: Scope) -> Truth:
        return negate(self.part.test(scope))

    def evidence(self, scope: Scope, out: Evidence) -> None:
        self.part.evidence(scope, out)


@dataclass(frozen=True, slots=True)
class DuringNode:
    window: TimeWindow

    def test(self, scope: Scope) -> Truth:
        return self.window.contains(scope.now)

    def evidence(self, scope: Scope, out: Evidence) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Tally:
    """How a table's instances answer an expression."""

    matching: list[str]  # instances for which it holds
    known: int  # instances for which it is True or False
    total: int

    @property
    def share(self) -> float | None:
        return len(self.matching) / self.known if self.known else None


@dataclass(frozen=True, slots=True)
class AggregateNode:
    """``count`` or ``share`` of a table's instances that satisfy ``part``."""

    table: str
    part: Node
    as_share: bool
    tests: tuple[Callable[[Value], Truth], ...]
    over_site: bool = False
    timed: bool = False  # ``part`` depends on the time (an age, a schedule)

    def tally(self, scope: Scope) -> Tally:
        """Over the device's table; or over that table of every device of the site
        that answers (a device that does not has no known state to count). A count
        over the site is made once per site version (and time, when its part depends
        on the time), whoever asks, and from each device's own count, made again only
        when that device's values moved: a count whose part reads no age is the same
        at every time until a device's values move the site's version, so the polls
        of a quiet site do not walk every device of it."""
        site = scope.site
        if self.over_site and isinstance(site, SiteValues):
            when = scope.now if self.timed else None
            made = site.tallies.get(id(self))
            if made is not None and made[0] == site.version and made[1] == when:
                assert isinstance(made[2], Tally)
                return made[2]
            tally = self._site_count(site, scope)
            site.tallies[id(self)] = (site.version, when, tally)
            return tally
        return self._count(
            [v for v in site if v.answering] if self.over_site else [scope.values], scope
        )

    def _site_count(self, site: SiteValues, scope: Scope) -> Tally:
        """The sum of every answering device's own count, each kept by the device
        (with its version, and the time when the part depends on it)."""
        matching: list[str] = []
        known = total = 0
        when = scope.now if self.timed else None
        key = id(self)
        for values in site:
            if not values.answering:
                continue
            kept = values.tallies.get(key)
            if kept is not None and kept[0] == values.version and kept[1] == when:
                own = kept[2]
                assert isinstance(own, Tally)
            else:
                own = self._count((values,), scope)
                values.tallies[key] = (values.version, when, own)
            matching += own.matching
            known += own.known
            total += own.total
        return Tally(matching, known, total)

    def _count(self, sources: Sequence[DeviceValues], scope: Scope) -> Tally:
        matching, known, total = [], 0, 0
        test, table, now, site = self.part.test, self.table, scope.now, scope.site
        for values in sources:
            instances = values.instances_of(table)
            total += len(instances)
            for instance in instances:
                truth = test(Scope(values, instance, now, site))
                known += truth is not None
                if truth:
                    matching.append(instance)
        return Tally(matching, known, total)

    def test(self, scope: Scope) -> Truth:
        tally = self.tally(scope)
        measured = tally.share if self.as_share else len(tally.matching)
        if measured is None:
            return None
        return all_of([test(measured) for test in self.tests])

    def evidence(self, scope: Scope, out: Evidence) -> None:
        for instance in self.tally(scope).matching:
            self.part.evidence(replace(scope, instance=instance), out)


def compile_expr(expr: Expr, names: ReadingNames, table: str | None) -> Node:
    """A node for ``expr``; ``table`` is the table whose instance the scope holds."""
    if isinstance(expr, Check):
        tests = tuple((op, _comparator(op, v)) for op, v in expr.comparators().items())
        per = _ref(expr.per, names, table) if expr.per is not None else None
        written = tuple(expr.comparators().items())
        return CheckNode(_ref(expr.point, names, table), expr.of, tests, per, written)
    if isinstance(expr, Seen):
        return SeenNode(_ref(expr.point, names, table), frozenset(expr.seen))
    if isinstance(expr, All | AnyOf):
        parts = expr.all if isinstance(expr, All) else expr.any
        compiled = tuple(compile_expr(part, names, table) for part in parts)
        return Combined(compiled, all_of if isinstance(expr, All) else any_of)
    if isinstance(expr, Not):
        return NotNode(compile_expr(expr.not_, names, table))
    if isinstance(expr, During):
        return DuringNode(expr.during)
    over = aggregate_table(expr, names)
    inner = expr.count if isinstance(expr, Count) else expr.share
    limits = {op: getattr(expr, op) for op in ("eq", "gt", "ge", "lt", "le") if hasattr(expr, op)}
    bounds = tuple(_comparator(op, v) for op, v in limits.items() if v is not None)
    part = compile_expr(inner, names, over)
    timed = any(
        isinstance(e, During) or (isinstance(e, Check) and e.of == "age") for e in walk(inner)
    )
    return AggregateNode(over, part, isinstance(expr, Share), bounds, expr.over == "site", timed)


def _ref(point: str, names: ReadingNames, table: str | None) -> PointRef:
    if names.table_of(point) is not None:
        return PointRef(point, True)
    return PointRef(point, table is not None and point.startswith(TRAP_PREFIX))
