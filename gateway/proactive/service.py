"""Proactive maintenance assembled for one site: its jobs, their times, their memory.

| job | when (site time) | does |
|---|---|---|
| ``inspection`` | daily 08:00 | opens the ``pm.due`` ticket of a new inspection period |
| ``contract_expiry`` | daily 08:00 | the ``contract.expiring`` notice a month before the end |
| ``forecast`` | hourly | trend forecasts: opens and resolves ``forecast.*`` tickets |
| ``digest`` | daily 07:00 | the health digest on ``lvgw/v1/<site>/digest`` |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from gateway.config.load import LoadedConfig
from gateway.proactive import calendar
from gateway.proactive.contract_jobs import ContractJobs
from gateway.proactive.digest import DigestJob, StatusSource
from gateway.proactive.forecasting import ForecastJob, Tables
from gateway.proactive.ports import History, Publisher, TicketSink
from gateway.proactive.scheduler import Clock, Job, ProactiveScheduler, daily_at, every, utc_now
from gateway.proactive.state import StateFile
from gateway.proactive.watches import WATCHES, Watch
from gateway.tickets.history import TicketHistory


@dataclass(frozen=True, slots=True)
class Times:
    """Hours (site time) of the daily jobs, and the forecasts' interval."""

    contract_hour: int = 8  # office hours: the service center sees the ticket at once
    digest_hour: int = 7
    forecast_every: timedelta = timedelta(hours=1)


def tables_of(status: StatusSource) -> Tables:
    """A device's table states and labels, from the latest status snapshot."""

    def tables(device: str) -> Mapping[str, Mapping[str, str]]:
        snapshot = status()
        return {} if snapshot is None else snapshot.tables(device)

    return tables


async def build_scheduler(
    config: LoadedConfig,
    tickets: TicketSink,
    outbox: Publisher,
    status: StatusSource,
    history: History | None = None,
    ticket_history: TicketHistory | None = None,
    clock: Clock = utc_now,
    times: Times = Times(),
    watches: tuple[Watch, ...] = WATCHES,
) -> ProactiveScheduler:
    """The scheduler with every job of the site; its memory loaded from the state dir.

    Raises `ProactiveStateError` when proactive.db is unreadable: starting with a
    blank memory would send everything again.
    """
    site = config.site_file.site
    state_file = await StateFile(config.site_file.agent.state_dir).open()
    try:
        state = await state_file.load()
    except BaseException:
        await state_file.close()
        raise
    zone = calendar.site_zone(site)
    contract = ContractJobs(site, tickets, state)
    digest = DigestJob(site, outbox, status, ticket_history, state)
    jobs = [
        Job("inspection", daily_at(times.contract_hour, 0, zone), contract.inspection),
        Job("contract_expiry", daily_at(times.contract_hour, 0, zone), contract.expiry),
        Job("digest", daily_at(times.digest_hour, 0, zone), digest.run),
    ]
    if history is not None:
        forecast = ForecastJob(config, history, tickets, watches, tables_of(status))
        jobs.append(Job("forecast", every(times.forecast_every, zone), forecast.run))
    return ProactiveScheduler(jobs, state_file, state, clock)
