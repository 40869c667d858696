"""The SNMP driver interface shared by every SNMP client implementation.

OIDs cross this boundary as dotted numeric strings without a leading dot
("1.3.6.1.2.1.1.3.0"). Names are resolved to numbers ahead of time (profiles),
never at poll time.

Values are plain Python: INTEGER, Counter32/64, Gauge32, TimeTicks and
Unsigned32 become ``int``; OCTET STRING and Opaque become ``bytes``; OBJECT
IDENTIFIER becomes a dotted ``str``; IpAddress becomes a dotted-quad ``str``;
noSuchObject, noSuchInstance and endOfMibView become ``NO_SUCH``.

Errors form a small tree, converted at the driver boundary:
``SnmpError`` > ``SnmpTimeout`` (no answer after the retries),
``SnmpAuthError`` (SNMPv3 USM report: unknown user, wrong key...),
``SnmpProtocolError`` (an error-status in the response, a malformed packet).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol


class NoSuch(enum.Enum):
    """The agent has no value at this OID (noSuchObject/noSuchInstance/endOfMibView)."""

    NO_SUCH = "no-such"


NO_SUCH = NoSuch.NO_SUCH

SnmpValue = int | bytes | str | NoSuch
VarBind = tuple[str, SnmpValue]


class SnmpError(Exception):
    """Any failure to get an answer from an SNMP agent."""


class SnmpTimeout(SnmpError):
    """No response within the timeout, after every retry. ``noise`` counts what came
    back from the agent's address that was not SNMP at all (ignored, as a real answer
    may still follow): an address that answers garbage, told apart from silence."""

    def __init__(self, message: str, noise: int = 0) -> None:
        super().__init__(message)
        self.noise = noise


class SnmpAuthError(SnmpError):
    """The agent rejected our credentials (SNMPv3 USM report or similar)."""


class SnmpProtocolError(SnmpError):
    """An error-status in the response, or a packet that could not be decoded."""


@dataclass(frozen=True, slots=True)
class V3Credentials:
    user: str
    auth_protocol: Literal["none", "md5", "sha", "sha224", "sha256", "sha384", "sha512"] = "none"
    auth_key: str = field(default="", repr=False)
    priv_protocol: Literal["none", "des", "aes", "aes192", "aes256"] = "none"
    priv_key: str = field(default="", repr=False)


DEFAULT_WALK_BYTES = 4 * 1024 * 1024
DEFAULT_WALK_VARBINDS = 100_000


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    """Where and how to reach one agent, and how much one walk may take from it.

    A walk ends with ``SnmpProtocolError`` once the agent has sent more than
    ``max_walk_bytes`` (OIDs and values) or ``max_walk_varbinds``: an agent that never
    ends a table, or answers with values as large as a datagram, costs that much and
    no more. The budgets are not part of the target's identity (equality, hash).
    """

    host: str
    port: int = 161
    version: Literal["1", "2c", "3"] = "2c"
    community: str = field(default="public", repr=False)
    v3: V3Credentials | None = None
    timeout: float = 1.0
    retries: int = 1
    max_walk_bytes: int = field(default=DEFAULT_WALK_BYTES, compare=False)
    max_walk_varbinds: int = field(default=DEFAULT_WALK_VARBINDS, compare=False)


class SnmpClient(Protocol):
    """What the poller needs of an SNMP implementation."""

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        """GET the given OIDs in one request; results in request order."""
        ...

    async def walk(
        self, target: SnmpTarget, roots: Sequence[str], max_repetitions: int = 25
    ) -> list[VarBind]:
        """Walk every root subtree (GETBULK on v2c/v3, GETNEXT on v1).

        Several roots (table columns) are walked side by side in the same
        requests; the walk of a root stops at the first OID outside it.
        """
        ...

    async def close(self) -> None: ...
