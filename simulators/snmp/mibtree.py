"""A device's MIB view: its OIDs in order and, for each, how to read the value.

A tree is built once per device *shape* (kind, flavour, table sizes) and shared by
every device of that shape: getters take the device model and read its live state,
so 500 devices cost 500 models, not 500 copies of their OID lists.

The tree is the device's whole view: pysnmp's own MIB (engine, USM and VACM tables)
is never attached, so no credentials or engine internals can be walked.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pysnmp.proto import rfc1902, rfc1905

OID = tuple[int, ...]
Value = Any  # a pyasn1 SNMP value
Getter = Callable[[Any], Value]  # model -> value
Rows = Callable[[Any], Sequence[tuple[OID, Value]]]  # model -> sorted (oid, value)

# Ready-made constructors, so MIB modules read like the MIB.
Integer = rfc1902.Integer32
OctetString = rfc1902.OctetString
ObjectId = rfc1902.ObjectIdentifier
ObjectName = rfc1902.ObjectName
Counter32 = rfc1902.Counter32
Counter64 = rfc1902.Counter64
Gauge32 = rfc1902.Gauge32
TimeTicks = rfc1902.TimeTicks
Unsigned32 = rfc1902.Unsigned32
IpAddress = rfc1902.IpAddress

NO_SUCH_OBJECT = rfc1905.noSuchObject
NO_SUCH_INSTANCE = rfc1905.noSuchInstance
END_OF_MIB_VIEW = rfc1905.endOfMibView

U32 = 2**32
U64 = 2**64
AFTER = U32  # an arc past any real one: (*base, AFTER) follows every OID under base


def _row_oid(row: tuple[OID, Value]) -> OID:
    return row[0]


def oid(text: str) -> OID:
    return tuple(int(part) for part in text.strip(".").split("."))


def counter32(value: float) -> Value:
    return Counter32(int(value) % U32)


def counter64(value: float) -> Value:
    return Counter64(int(value) % U64)


class TreeBuilder:
    """Collects objects; ``freeze()`` sorts them into a MibTree."""

    def __init__(self) -> None:
        self._getters: dict[OID, Getter] = {}
        self._objects: set[OID] = set()
        self._dynamic: list[tuple[OID, Rows]] = []
        self._subagents: list[tuple[OID, Callable[[Any], bool]]] = []

    def scalar(self, base: str | OID, getter: Getter) -> None:
        node = oid(base) if isinstance(base, str) else base
        self._objects.add(node)
        self._add((*node, 0), getter)

    def constant(self, base: str | OID, value: Value) -> None:
        self.scalar(base, lambda _model: value)

    def column(
        self, base: str | OID, indexes: Iterable[OID], factory: Callable[[OID], Getter]
    ) -> None:
        """One column of a table: ``factory(index)`` gives the getter of each row."""
        node = oid(base) if isinstance(base, str) else base
        self._objects.add(node)
        for index in indexes:
            self._add(node + index, factory(index))

    def dynamic(self, base: str | OID, rows: Rows) -> None:
        """A subtree whose rows come and go (rows(model) returns them sorted)."""
        node = oid(base) if isinstance(base, str) else base
        self._objects.add(node)
        self._dynamic.append((node, rows))

    def subagent(self, base: str | OID, running: Callable[[Any], bool]) -> None:
        """A subtree registered by an AgentX subagent (RFC 2741) of the device's agent,
        served only while ``running(model)``: when the application behind it stops, its
        registration goes with it and the master agent answers for it as net-snmp's
        snmpd does for an OID no registration covers: noSuchObject to a GET, and a
        GETNEXT or GETBULK passes over the subtree."""
        self._subagents.append((oid(base) if isinstance(base, str) else base, running))

    def _add(self, node: OID, getter: Getter) -> None:
        if node in self._getters:
            raise ValueError(f"OID {'.'.join(map(str, node))} defined twice")
        self._getters[node] = getter

    def freeze(self) -> MibTree:
        return MibTree(self._getters, self._objects, self._dynamic, self._subagents)


class MibTree:
    def __init__(
        self,
        getters: dict[OID, Getter],
        objects: set[OID],
        dynamic: list[tuple[OID, Rows]],
        subagents: Sequence[tuple[OID, Callable[[Any], bool]]] = (),
    ) -> None:
        self._getters = getters
        self._oids = sorted(getters)
        self._objects = objects
        self._dynamic = sorted(dynamic)
        self._subagents = tuple(subagents)
        # pyasn1 names cost ~10 us each to build: keep one per OID of the shape.
        self._names: dict[OID, Any] = {}

    def __len__(self) -> int:
        return len(self._oids)

    def subtrees(self) -> list[OID]:
        """The top-level object bases (for documentation and tests)."""
        return sorted(self._objects)

    def get(self, model: Any, node: OID) -> Value:
        if self._subagents and self._gone(model, node) is not None:
            return NO_SUCH_OBJECT
        getter = self._getters.get(node)
        if getter is not None:
            return getter(model)
        for base, rows in self._dynamic:
            if node[: len(base)] == base:
                found = rows(model)
                at = bisect.bisect_left(found, node, key=_row_oid)
                if at < len(found) and found[at][0] == node:
                    return found[at][1]
        return NO_SUCH_INSTANCE if self._is_under_object(node) else NO_SUCH_OBJECT

    def name(self, node: OID) -> Any:
        """The pyasn1 ObjectName of ``node``, built once."""
        found = self._names.get(node)
        if found is None:
            found = self._names[node] = ObjectName(node)
        return found

    def next(self, model: Any, node: OID) -> tuple[OID, Value] | None:
        """The first object after ``node`` in lexicographic order, or None at the end;
        past the subtrees of subagents that are not running."""
        found = self._next(model, node)
        while found is not None and self._subagents:
            gone = self._gone(model, found[0])
            if gone is None:
                break
            found = self._next(model, (*gone, AFTER))
        return found

    def _gone(self, model: Any, node: OID) -> OID | None:
        """The base of the stopped subagent's subtree ``node`` is in, if any."""
        for base, running in self._subagents:
            if node[: len(base)] == base and not running(model):
                return base
        return None

    def _next(self, model: Any, node: OID) -> tuple[OID, Value] | None:
        best: tuple[OID, Value] | None = None
        at = bisect.bisect_right(self._oids, node)
        if at < len(self._oids):
            found = self._oids[at]
            best = (found, self._getters[found])
        for base, rows in self._dynamic:
            if best is not None and base > best[0]:
                break
            if node[: len(base)] > base:
                continue  # every row of this subtree is before node
            table = rows(model)
            at = bisect.bisect_right(table, node, key=_row_oid)
            if at < len(table):
                row_oid, value = table[at]
                if best is None or row_oid < best[0]:
                    best = (row_oid, lambda _model, value=value: value)
        if best is None:
            return None
        return best[0], best[1](model)

    def _is_under_object(self, node: OID) -> bool:
        return any(node[:k] in self._objects for k in range(len(node) - 1, 0, -1))
