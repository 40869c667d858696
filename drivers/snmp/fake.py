"""An in-process SNMP client for unit tests of what sits above the driver (the poller).

Each agent is a dict of OID -> value at a (host, port); an agent can be made to time
out or to refuse credentials. GETs answer NO_SUCH for unknown OIDs and walks follow
numeric OID order, like a real agent. Every call is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from drivers.snmp.base import (
    NO_SUCH,
    SnmpAuthError,
    SnmpError,
    SnmpTarget,
    SnmpTimeout,
    SnmpValue,
    VarBind,
)


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(arc) for arc in oid.strip(".").split("."))


@dataclass(frozen=True, slots=True)
class FakeCall:
    kind: str  # "get" or "walk"
    target: SnmpTarget
    oids: tuple[str, ...]


@dataclass
class FakeSnmpClient:
    """A map-backed SnmpClient. ``agents[(host, port)]`` holds an agent's OIDs."""

    agents: dict[tuple[str, int], dict[str, SnmpValue]] = field(default_factory=dict)
    failures: dict[tuple[str, int], type[SnmpError]] = field(default_factory=dict)
    calls: list[FakeCall] = field(default_factory=list)
    closed: bool = False

    def set_values(self, host: str, port: int, values: Mapping[str, SnmpValue]) -> None:
        """Add or change OIDs of the agent at (host, port), creating it if needed."""
        self.agents.setdefault((host, port), {}).update(values)

    def set_timeout(self, host: str, port: int, timing_out: bool = True) -> None:
        """Make the agent at (host, port) stop answering, or answer again."""
        self._set_failure(host, port, SnmpTimeout if timing_out else None)

    def set_auth_failure(self, host: str, port: int, failing: bool = True) -> None:
        self._set_failure(host, port, SnmpAuthError if failing else None)

    def _set_failure(self, host: str, port: int, error: type[SnmpError] | None) -> None:
        if error is None:
            self.failures.pop((host, port), None)
        else:
            self.failures[(host, port)] = error

    def _agent(self, target: SnmpTarget) -> dict[str, SnmpValue]:
        if self.closed:
            raise SnmpError("SNMP client is closed")
        key = (target.host, target.port)
        error = self.failures.get(key)
        if error is not None:
            raise error(f"{target.host}:{target.port} (fake): {error.__name__}")
        agent = self.agents.get(key)
        if agent is None:  # nothing listens there
            raise SnmpTimeout(f"no answer from {target.host}:{target.port} (fake)")
        return agent

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        self.calls.append(FakeCall("get", target, tuple(oids)))
        agent = self._agent(target)
        return [(oid, agent.get(oid, NO_SUCH)) for oid in oids]

    async def walk(
        self, target: SnmpTarget, roots: Sequence[str], max_repetitions: int = 25
    ) -> list[VarBind]:
        self.calls.append(FakeCall("walk", target, tuple(roots)))
        agent = self._agent(target)
        ordered = sorted(agent, key=_oid_key)
        out: list[VarBind] = []
        for root in roots:
            prefix = root.strip(".") + "."
            out += [(oid, agent[oid]) for oid in ordered if oid.startswith(prefix)]
        return out

    async def close(self) -> None:
        self.closed = True
