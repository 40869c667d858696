"""What the proactive jobs need from the rest of the gateway, as narrow interfaces.

The agent's `Pipeline` is the ticket sink, its `Outbox` the publisher and the embedded
`MetricStore` the history; tests may pass the same real parts or small fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from gateway.metrics.store.types import Sample, Series
from gateway.model import Condition
from gateway.outbox import OutboxMessage
from gateway.tickets.book import Decision, Key
from gateway.tickets.state import OpenTicket

T = TypeVar("T")


class TicketSink(Protocol):
    """Opens, updates and resolves tickets for conditions decided outside the rules;
    site-wide ones are filed against the gateway device (`GATEWAY`), which it knows."""

    @property
    def open_tickets(self) -> Mapping[Key, OpenTicket]: ...

    async def apply(self, conditions: Sequence[Condition]) -> Decision: ...


class Publisher(Protocol):
    """Hands a message to the durable outbox."""

    async def put(self, message: OutboxMessage) -> int: ...


class History(Protocol):
    """The read side of the embedded metric store (gateway/metrics/store/metric_store.py)."""

    async def latest(
        self, device: str, point: str, instance: str | None = None
    ) -> Sample | None: ...

    async def series(
        self,
        device: str,
        point: str,
        instance: str | None,
        start: datetime,
        end: datetime,
        step: timedelta | None = None,
    ) -> Series: ...

    async def map_series(
        self,
        keys: Sequence[tuple[str, str, str | None]],
        start: datetime,
        end: datetime,
        step: timedelta | None,
        use: Callable[[int, Series], T],
    ) -> list[T]:
        """``use(i, series)`` of each (device, point, instance) of ``keys`` (``i``
        its place there) over one range, in order: the store reads what they share
        once, and holds one series' samples at a time (a job over many series uses
        this). ``use`` may run on the store's thread: keep it quick, no I/O."""
        ...

    async def points(self, device: str) -> list[str]: ...

    async def instances(self, device: str, point: str) -> list[str]: ...
