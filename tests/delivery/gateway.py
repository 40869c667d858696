"""The gateway's delivery half, wired as `lvgw run` wires it (gateway/agent.py), minus
the pollers: the tests feed poll results to the real `Pipeline` themselves."""

from __future__ import annotations

import asyncio
from typing import Self

from drivers.backoff import Backoff
from drivers.tasks import stop_task
from gateway.config.load import LoadedConfig
from gateway.outbox import Outbox
from gateway.pipeline import Pipeline, load_tickets
from gateway.uplink import MqttUplink
from gateway.uplink.inbound import Inbound

# Reconnect quickly in tests: the production cap (60 s) would make an outage test wait.
TEST_BACKOFF = (0.1, 1.0)


class Gateway:
    """rules -> TicketBook -> Outbox (tickets and events) -> MqttUplink on one state dir."""

    def __init__(self, config: LoadedConfig) -> None:
        self.config = config
        self.site = config.site_file.site.id
        self.state_dir = config.site_file.agent.state_dir
        self.outbox = Outbox(self.state_dir / "outbox.db")
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        await self.outbox.open()
        self.pipeline = Pipeline(self.config, self.outbox, await load_tickets(self.outbox))
        self.inbound = Inbound(self.pipeline.acknowledge, commands={})
        self.uplink = MqttUplink(
            self.config.site_file.uplink.mqtt,
            self.site,
            self.outbox,
            self.inbound.handle,
            backoff=Backoff(*TEST_BACKOFF),
        )
        self.uplink.refusal_backoff = Backoff(*TEST_BACKOFF)
        self._task = asyncio.create_task(self.uplink.run(), name=f"uplink {self.site}")
        return self

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def backlog(self) -> int:
        stats = await self.outbox.stats()
        return sum(b.messages for b in stats.backlog.values())

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            await stop_task(self._task, reraise=True)
        await self.outbox.close()
