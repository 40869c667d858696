"""Error-status answers turned into the driver's exceptions, the same for every client."""

from __future__ import annotations

from collections.abc import Sequence

from drivers.snmp.base import SnmpProtocolError
from drivers.snmp.ber import error_status_name

NO_SUCH_NAME = 2
TOO_BIG = 1


def error_position(status: int, index: int, count: int) -> int:
    """The 0-based varbind an error-index points at, checked against the request."""
    if not 0 < index <= count:
        raise SnmpProtocolError(
            f"{error_status_name(status)} with error-index {index} outside {count} varbinds"
        )
    return index - 1


def status_error(status: int, index: int, oids: Sequence[str]) -> SnmpProtocolError:
    """An error-status in a response: its name, the varbind index and that OID."""
    where = f" ({oids[index - 1]})" if 0 < index <= len(oids) else ""
    return SnmpProtocolError(
        f"agent answered {error_status_name(status)} at varbind {index}{where}"
    )


def accept_get_answer(
    status: int, index: int, answered: int, remaining: list[int], names: Sequence[str], v1: bool
) -> bool:
    """Check a GET answer; True if its varbinds are to be taken, False to ask again.

    ``remaining`` holds the positions (in ``names``) that the request asked for. v1
    has no per-varbind exceptions: its noSuchName drops that OID from ``remaining``
    (it reads NO_SUCH) and the rest is asked again, as net-snmp's snmpget does.
    """
    if status == NO_SUCH_NAME and v1:
        del remaining[error_position(status, index, len(remaining))]
        return False
    if status:
        raise status_error(status, index, [names[i] for i in remaining])
    if answered != len(remaining):
        raise SnmpProtocolError(f"asked for {len(remaining)} OIDs, got {answered} back")
    return True
