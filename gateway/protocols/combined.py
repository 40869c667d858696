"""A device read over several protocols (SNMP for its system health, an HTTP API or
AMI for the rest): one reader per protocol, polled together, one result.

Each protocol's reader reads the points and tables its protocol reads (the profile's
``for_protocol``) and sees the device with that protocol's port. The device is
reachable when any of them reaches it: a recorder whose SNMP agent is off still
answers its API, and its SNMP points are then missing (stale), not the whole device.
``rtt`` is the profile's protocol's when it answered; the failures of each are in the
result's error, by protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from gateway.model import Reading
from gateway.poller.result import PollResult
from gateway.poller.schedule import PointReader

OWN = frozenset({"reachable", "rtt"})  # readings every reader yields about itself


class CombinedReader:
    def __init__(self, device_id: str, readers: Sequence[tuple[str, PointReader]]) -> None:
        self.device_id = device_id
        self.readers = list(readers)  # (protocol, reader), the profile's protocol first

    async def poll(self) -> PollResult:
        results = await asyncio.gather(*(reader.poll() for _, reader in self.readers))
        answered = [r for r in results if r.reachable]
        errors = "; ".join(
            f"{protocol}: {r.error}" for (protocol, _), r in zip(self.readers, results, strict=True)
            if r.error
        )[:500]  # fmt: skip
        ts = results[0].ts if results else datetime.now(UTC)
        if not answered:
            reading = Reading(self.device_id, "reachable", False, ts)
            return PollResult(self.device_id, ts, False, (reading,), errors)
        own = [r for r in answered[0].readings if r.point in OWN]
        seen: set[tuple[str, str]] = set()
        readings: list[Reading] = []
        for result in answered:
            for reading in result.readings:
                key = (reading.point, reading.instance)
                if reading.point in OWN or key in seen:
                    continue  # the first protocol's "access" when two yield one
                seen.add(key)
                readings.append(reading)
        return PollResult(self.device_id, ts, True, (*own, *readings), errors)
