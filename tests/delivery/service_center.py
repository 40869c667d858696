"""The service center's side of the delivery tests: mosquitto_sub with a persistent session.

mosquitto's own client is the reference consumer (independent of the gateway's MQTT
stack): fixed client id, clean start off, a session that outlives the connection,
QoS 1, and it reconnects by itself after the broker comes back. It prints one line per
message (``topic payload``); this class reads them as they come.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import aiomqtt

from drivers.tasks import stop_task
from tests.realservers import which

SESSION_EXPIRY_S = 86_400


class ServiceCenter:
    def __init__(self, host: str, port: int, site: str, client_id: str = "service-center") -> None:
        self.host, self.port, self.site, self.client_id = host, port, site, client_id
        self.tickets_topic = f"lvgw/v1/{site}/tickets"
        self.probe_topic = f"lvgw/v1/{site}/probe/{client_id}"
        self.events: list[dict[str, Any]] = []
        self.probes = 0
        self._arrived = asyncio.Condition()
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 10.0) -> None:
        """Start subscribing; returns once the subscription is in place (a probe came back)."""
        self._proc = await asyncio.create_subprocess_exec(
            which("mosquitto_sub"),
            "-h", self.host, "-p", str(self.port), "-V", "5",
            "-i", self.client_id, "-c", "-x", str(SESSION_EXPIRY_S), "-q", "1",
            "-t", self.tickets_topic, "-t", self.probe_topic, "-F", "%t %p",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            limit=4 * 1024 * 1024,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read(), name=f"mosquitto_sub {self.client_id}")
        async with asyncio.timeout(timeout):
            while True:
                await self._probe()
                with contextlib.suppress(TimeoutError):
                    await self.wait_for(lambda: self.probes > 0, 0.5)
                    return

    async def _probe(self) -> None:
        async with aiomqtt.Client(self.host, self.port, identifier=f"{self.client_id}-probe") as c:
            await c.publish(self.probe_topic, b"probe", qos=1)

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for raw in self._proc.stdout:
            topic, _, payload = raw.decode().rstrip("\n").partition(" ")
            async with self._arrived:
                if topic == self.tickets_topic:
                    self.events.append(json.loads(payload))
                else:
                    self.probes += 1
                self._arrived.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(predicate)

    def received_ids(self) -> set[str]:
        return {e["event_id"] for e in self.events}

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            await self._proc.wait()
        if self._reader is not None:
            await stop_task(self._reader, reraise=True)
