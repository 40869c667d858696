"""The one SNMP client a process shares: v1/v2c on the lean path, v3 through pysnmp."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from drivers.snmp.base import SnmpClient, SnmpTarget, VarBind
from drivers.snmp.lean import LeanSnmpClient

if TYPE_CHECKING:
    from drivers.snmp.pysnmp_client import PysnmpClient


class SnmpDriver:
    """Routes each target by its version (implements SnmpClient).

    Create it once and share it. pysnmp is imported and its engine created only when
    the first v3 target is polled, so a site without v3 pays nothing for it.
    """

    def __init__(self, lean: LeanSnmpClient | None = None, v3: PysnmpClient | None = None) -> None:
        self.lean = lean or LeanSnmpClient()
        self._v3 = v3

    @property
    def v3_started(self) -> bool:
        """Whether pysnmp has been loaded for a v3 target."""
        return self._v3 is not None

    @property
    def v3(self) -> PysnmpClient:
        if self._v3 is None:
            # Imported here: pysnmp is heavy, and only v3 targets need it.
            from drivers.snmp.pysnmp_client import PysnmpClient

            self._v3 = PysnmpClient()
        return self._v3

    def _client(self, target: SnmpTarget) -> SnmpClient:
        return self.v3 if target.version == "3" else self.lean

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        return await self._client(target).get(target, oids)

    async def walk(
        self, target: SnmpTarget, roots: Sequence[str], max_repetitions: int = 25
    ) -> list[VarBind]:
        return await self._client(target).walk(target, roots, max_repetitions)

    async def close(self) -> None:
        try:
            await self.lean.close()
        finally:
            if self._v3 is not None:
                await self._v3.close()
