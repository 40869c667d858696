"""Walking several subtrees side by side: which OIDs to ask next, when each one ends.

Shared by every client, whatever carries the requests (our own codec or pysnmp).
OIDs are BER content bytes: a subtree test is a byte-prefix test, because each
sub-identifier is self-delimiting, so a byte prefix that ends a sub-identifier is an
OID prefix.
"""

from __future__ import annotations

from collections.abc import Sequence

from drivers.snmp.base import NO_SUCH, SnmpProtocolError, SnmpValue
from drivers.snmp.ber import decode_oid
from drivers.snmp.errors import NO_SUCH_NAME, TOO_BIG, error_position, status_error

RawVarBind = tuple[bytes, SnmpValue]


def value_size(value: SnmpValue) -> int:
    """Bytes a value takes on the wire, near enough: what a walk's budget counts."""
    if isinstance(value, bytes | str):
        return len(value)
    return 8


def oid_after(a: bytes, b: bytes) -> bool:
    """True if OID ``a`` sorts strictly after OID ``b`` (both as BER content bytes).

    Plain byte order is not OID order (sub-identifiers have variable length), so
    compare the first sub-identifier that differs by its length, then its bytes.
    """
    n = len(a)
    if n == len(b):
        diff = (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_length()
    else:
        n = min(n, len(b))
        diff = (int.from_bytes(a[:n], "big") ^ int.from_bytes(b[:n], "big")).bit_length()
    if diff == 0:  # one is a prefix of the other
        return len(a) > len(b)
    i = n - 1 - (diff - 1) // 8  # first differing byte
    x, y = a[i], b[i]
    if x < 0x80 and y < 0x80:  # both end their sub-identifier here: same length
        return x > y
    # Both share the bytes before i, so the differing sub-identifier started at the
    # same place in both; the one with more bytes left is the larger (minimal encoding).
    rest_a = _remaining_arc_bytes(a, i)
    rest_b = _remaining_arc_bytes(b, i)
    if rest_a != rest_b:
        return rest_a > rest_b
    return x > y


def _remaining_arc_bytes(oid: bytes, i: int) -> int:
    j = i
    while j < len(oid) and oid[j] & 0x80:
        j += 1
    return j - i


class MultiColumnWalk:
    """The state of a walk over several roots (table columns) at once.

    Each round asks for the successors of every unfinished root's last OID; an answer
    is laid out row by row (GETBULK) or is one row (GETNEXT). A root ends at its first
    OID outside the subtree or at an exception value (endOfMibView). An agent may
    return fewer rows than asked, or cut a row short: unanswered roots are simply
    asked again.
    """

    def __init__(self, roots: Sequence[bytes], max_varbinds: int, max_bytes: int) -> None:
        if not roots:
            raise ValueError("nothing to walk")
        self.roots = list(roots)
        self._cursor = list(roots)
        self._rows: list[list[RawVarBind]] = [[] for _ in roots]
        self._active = list(range(len(roots)))
        self._budget = max_varbinds
        self._max_bytes = max_bytes
        self.received_bytes = 0  # OIDs and values of every answer so far

    @property
    def done(self) -> bool:
        return not self._active

    def request_oids(self) -> list[bytes]:
        """The OIDs to send next, one per unfinished root, in a stable order."""
        cursor = self._cursor
        return [cursor[col] for col in self._active]

    def end_requested(self, position: int) -> None:
        """End the root at ``position`` of the last request (v1 noSuchName)."""
        if not 0 <= position < len(self._active):
            raise SnmpProtocolError(f"error-index {position + 1} outside the request")
        del self._active[position]

    def take_answer(
        self,
        status: int,
        index: int,
        varbinds: Sequence[RawVarBind],
        bulk: bool,
        max_repetitions: int,
    ) -> int:
        """Take the answer to ``request_oids()``; returns max-repetitions for the next.

        v1 ends a column with noSuchName; tooBig halves the repetitions of a GETBULK;
        any other error-status raises SnmpProtocolError.
        """
        if status == NO_SUCH_NAME and not bulk:
            self.end_requested(error_position(status, index, len(self._active)))
        elif status == TOO_BIG and bulk and max_repetitions > 1:
            return max_repetitions // 2
        elif status:
            raise status_error(status, index, [decode_oid(oid) for oid in self.request_oids()])
        else:
            self.feed(varbinds)
        return max_repetitions

    def feed(self, varbinds: Sequence[RawVarBind]) -> None:
        """Take one answer to ``request_oids()``."""
        if not varbinds:
            raise SnmpProtocolError("empty answer to a walk request")
        active = self._active
        n = len(active)
        roots, cursor, rows = self.roots, self._cursor, self._rows
        ended: set[int] = set()
        for k, (oid, value) in enumerate(varbinds):
            col = active[k % n]
            if col in ended:
                continue
            root = roots[col]
            if value is NO_SUCH or len(oid) <= len(root) or not oid.startswith(root):
                ended.add(col)
                continue
            if not oid_after(oid, cursor[col]):
                raise SnmpProtocolError("agent returned OIDs that do not increase")
            rows[col].append((oid, value))
            cursor[col] = oid
        self._budget -= len(varbinds)
        if self._budget < 0:
            raise SnmpProtocolError("walk exceeded its varbind budget")
        self.received_bytes += sum(len(oid) + value_size(value) for oid, value in varbinds)
        if self.received_bytes > self._max_bytes:
            raise SnmpProtocolError(
                f"walk exceeded its budget of {self._max_bytes} bytes"
                f" ({self.received_bytes} bytes received)"
            )
        if ended:
            self._active = [col for col in active if col not in ended]

    def longest_column(self) -> int:
        """How many rows the longest root had: the table's size, for the next walk."""
        return max(len(rows) for rows in self._rows)

    def results(self) -> list[RawVarBind]:
        """Every varbind found, root by root in the order given, each in agent order."""
        out: list[RawVarBind] = []
        for rows in self._rows:
            out += rows
        return out
