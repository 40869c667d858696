"""The correlation stage: the rules' condition changes in, the ticket book's out.

    rules -> Correlator.process(condition) -> [dependencies and storms] -> [maintenance]
          -> TicketBook.on_condition

Time comes from the conditions (``since``) and from ``tick(now)``; the wall clock
is read only by the probes the stage awaits and by the maintenance API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from gateway.config.load import LoadedConfig
from gateway.correlate.dependencies import Dependencies, Placement, Probe
from gateway.correlate.errors import MaintenanceStoreError
from gateway.correlate.gate import MaintenanceGate
from gateway.correlate.hostlink import HostLink, LinkCheck
from gateway.correlate.maintenance import MaintenanceStore
from gateway.correlate.storms import StormPolicy
from gateway.correlate.topology import Topology
from gateway.model import Condition

log = logging.getLogger("lvgw.correlate")


class Correlator:
    """Dependencies, parent re-probe, storms and maintenance, as one stage.

    ``probe(device_id)`` re-polls one device now and says whether it answered.
    ``link()`` says why the gateway's own network is down, or None; by default
    (None) the kernel's routing table and interface states are read
    (:class:`HostLink`); pass ``lambda: None`` to never blame the gateway's link.
    ``open_keys``: the keys of the tickets the ticket book has open at start-up (loaded
    from its store), so that their conditions keep their tickets and their clears
    reach the book even during maintenance.
    """

    def __init__(
        self,
        config: LoadedConfig,
        probe: Probe,
        *,
        storms: StormPolicy | None = None,
        link: LinkCheck | None = None,
        maintenance: MaintenanceStore | None = None,
        probe_ttl: timedelta = timedelta(seconds=5),
        listing_interval: timedelta = timedelta(seconds=60),
        open_keys: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        self.topology = Topology.from_config(config)
        open_keys = list(open_keys)
        self.dependencies = Dependencies(
            self.topology, probe, storms, link or HostLink(), probe_ttl, listing_interval,
            open_keys, config.site_file.site.locale,
        )  # fmt: skip
        self.store = maintenance or MaintenanceStore.for_site(config)
        self.gate = MaintenanceGate(self.store, open_keys)
        self._lock = asyncio.Lock()

    async def process(self, condition: Condition) -> list[Condition]:
        """One condition change of the rules -> the changes the ticket book should see."""
        async with self._lock:
            changes = await self.dependencies.on_condition(condition)
            return self._admit(changes, condition.since)

    async def tick(self, now: datetime) -> list[Condition]:
        """Let time pass to ``now``: decide what waited (probes, siblings, recovery),
        pick up maintenance changed by another process, end maintenance that ran out."""
        async with self._lock:
            try:
                if self.store.reload_if_changed():
                    log.info("maintenance windows reloaded count=%d", len(self.store.windows))
            except MaintenanceStoreError as exc:  # keep the windows known so far
                log.error("maintenance file unreadable, keeping the last windows: %s", exc)
            changes = self._admit(await self.dependencies.on_tick(now), now)
            return changes + self.gate.release(now)

    def placements(self) -> dict[str, tuple[Placement, str]]:
        return self.dependencies.placements()

    def held(self) -> list[Condition]:
        """Conditions held back by maintenance."""
        return list(self.gate.held.values())

    def _admit(self, changes: list[Condition], now: datetime) -> list[Condition]:
        return [passed for c in changes for passed in self.gate.admit(c, now)]
