"""What the agent runs for technicians and contract customers, beside the pipeline:
the status page, the ticket history, and proactive maintenance.

    async with SiteServices(config, pipeline) as services:
        ...  # in the agent's TaskGroup, each part under its supervisor:
        for name, start in services.tasks():
            group.create_task(supervisor.run(name, start), name=name)

Opening checks what must be right before the agent starts (the status page's token,
proactive.db): a `StatusPageError` or `ProactiveStateError` then stops the start with
a clear message. A status page whose port is taken at run time is logged and left
off: ticketing matters more than the page.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Self

from gateway.config.load import LoadedConfig
from gateway.metrics.store.history import StoreHistory
from gateway.model import TicketEvent
from gateway.pipeline import Pipeline, Unsubscribe
from gateway.proactive.ports import History
from gateway.proactive.scheduler import ProactiveScheduler
from gateway.proactive.service import build_scheduler
from gateway.tickets.history import TicketHistory, TicketHistoryError
from gateway.views.status import from_state_dir

if TYPE_CHECKING:
    from gateway.views.statuspage import StatusPage

log = logging.getLogger("lvgw.services")


class SiteServices:
    def __init__(
        self, config: LoadedConfig, pipeline: Pipeline, history: History | None = None
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        state_dir = config.site_file.agent.state_dir
        self._own_history = history is None
        self.history: History = history or StoreHistory.in_state_dir(state_dir)
        self.ticket_history: TicketHistory | None = None
        self.page: StatusPage | None = None
        self.scheduler: ProactiveScheduler | None = None
        self._unsubscribe: Unsubscribe | None = None

    async def __aenter__(self) -> Self:
        state_dir = self.config.site_file.agent.state_dir
        status = from_state_dir(self.config)
        try:
            if self.config.site_file.agent.status_listen is not None:
                # The web server (aiohttp) is loaded only by a site that has the page.
                from gateway.views.statuspage import StatusPage

                self.page = StatusPage(self.config, status, self.history)
            self.ticket_history = await TicketHistory.in_state_dir(state_dir).open()
            self._unsubscribe = self.pipeline.subscribe(self._record)
            self.scheduler = await build_scheduler(
                self.config, self.pipeline, self.pipeline.outbox, status, self.history,
                self.ticket_history,
            )  # fmt: skip
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.scheduler is not None:
            await self.scheduler.close()
        if self.ticket_history is not None:
            await self.ticket_history.close()
        if self._own_history and isinstance(self.history, StoreHistory):
            await self.history.close()

    async def _record(self, events: Sequence[TicketEvent]) -> None:
        if self.ticket_history is None:
            return
        try:
            await self.ticket_history.record(events)
        except TicketHistoryError as exc:  # a view, not the ticket: never stop ticketing
            log.error("ticket history not recorded: %s", exc)

    async def _serve_page(self, page: StatusPage) -> None:
        from gateway.views.statuspage import StatusPageError

        try:
            await page.start()
        except StatusPageError as exc:
            log.error("status page off: %s", exc)
            return
        try:
            await asyncio.Event().wait()  # serve until cancelled
        finally:
            await page.close()

    def tasks(self) -> list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]]:
        """The long-lived parts to run under the agent's supervisor, with their names:
        each a function that starts the part (again, after a failure)."""
        jobs: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = []
        if self.page is not None:
            jobs.append(("status-page", functools.partial(self._serve_page, self.page)))
        if self.scheduler is not None:
            jobs.append(("proactive", self.scheduler.run))
        return jobs
