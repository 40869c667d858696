"""The InfluxDB sink: readings -> line-protocol batches -> InfluxDB, through the outbox
while InfluxDB is away.

    sink = MetricsSink(InfluxSettings.from_config(...), outbox, MetricSchema.from_config(config))
    group.create_task(sink.run(), name="influx")      # its own task
    await sink.submit(result.readings)                 # from the pipeline; never waits

``submit`` only appends to a bounded in-memory queue; everything else happens in
``run()``'s two tasks:

- the batcher turns readings into lines and cuts batches by size (``batch_lines``,
  ``batch_bytes``) and time (``flush_interval``). While InfluxDB takes writes and
  nothing waits in the outbox, a batch goes straight to InfluxDB; otherwise (or when
  that write fails) it is stored in the outbox's ``metric`` class, topic
  ``influx:<bucket>``, payload the batch's line protocol, gzip-compressed;
- the drainer writes the outbox's metric backlog to InfluxDB oldest first, several
  batches per request, acknowledging each once written; after a failure it waits a
  capped, jittered backoff. When the backlog is empty, batches go direct again.

The outbox bounds the backlog (its metric budget) and drops the oldest beyond it,
counting them; `stats()` reports those counts. Writes are idempotent in InfluxDB (the
same series and time overwrite), so delivery is at least once: a batch whose write or
store was interrupted is stored again at shutdown.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import time
from collections import deque
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers.backoff import Backoff
from gateway.metrics.errors import InfluxRefused, InfluxRejected, InfluxUnavailable
from gateway.metrics.influx_settings import InfluxSettings
from gateway.metrics.schema import MetricSchema
from gateway.model import Reading
from gateway.outbox import MessageClass, Outbox, OutboxError, OutboxMessage, StoredMessage

if TYPE_CHECKING:
    from gateway.metrics.influx_writer import InfluxWriter

log = logging.getLogger("lvgw.metrics.influx")

MIB = 1024 * 1024
METRIC_CLASSES = (MessageClass.METRIC,)
# Batches wait in the outbox gzip-compressed: line protocol repeats its tags on every
# line and shrinks several fold (6x measured on random values, more on real ones), so
# the metric budget holds that much more outage and an SD card takes that many fewer
# writes. Level 1: the cheapest, nearly as small.
STORE_GZIP_LEVEL = 1
_GZIP_MAGIC = b"\x1f\x8b"  # line protocol never starts with it


@dataclass(frozen=True, slots=True)
class SinkOptions:
    batch_lines: int = 5_000  # lines per batch (one line: a device's row at one time)
    batch_bytes: int = 1 * MIB  # and at most this much line protocol
    flush_interval: float = 2.0  # seconds a started batch waits for more lines
    queue_readings: int = 200_000  # readings waiting for the batcher; beyond, oldest dropped
    drain_bytes: int = 4 * MIB  # line protocol per request while draining the outbox
    drain_messages: int = 200  # outbox messages fetched per drain step
    retry_base: float = 1.0  # backoff while InfluxDB is away: uniform(base/2, min(cap, ...))
    retry_cap: float = 60.0

    def __post_init__(self) -> None:
        for name in ("batch_lines", "batch_bytes", "queue_readings", "drain_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.flush_interval <= 0 or self.retry_base <= 0 or self.retry_cap < self.retry_base:
            raise ValueError("flush_interval and retry_base must be positive, retry_cap >= base")


@dataclass(frozen=True, slots=True)
class SinkStats:
    """Counters since the sink started; ``outbox_*`` are the outbox's own, since the
    outbox file was created, for its metric class."""

    submitted_readings: int
    queued_readings: int  # waiting for the batcher now
    queue_dropped_readings: int  # dropped because the queue was full (the batcher fell behind)
    written_lines: int  # lines InfluxDB accepted (direct and drained)
    written_batches: int  # write requests InfluxDB accepted
    spilled_batches: int  # batches stored in the outbox
    drained_batches: int  # outbox batches written and acknowledged
    rejected_batches: int  # refused by InfluxDB as malformed or too large: dropped
    lost_batches: int  # could not be stored in the outbox (disk full, too large)
    backlog_batches: int  # waiting in the outbox (last seen)
    backlog_bytes: int
    outbox_dropped_batches: int  # dropped oldest-first by the outbox's metric budget
    outbox_dropped_bytes: int
    influx_ok: bool | None  # did the last write succeed? None before the first
    last_error: str  # the last failure, "" if none
    last_error_at: float | None  # Unix time


@dataclass(slots=True)
class _Counters:
    submitted: int = 0
    queue_dropped: int = 0
    written_lines: int = 0
    written_batches: int = 0
    spilled: int = 0
    drained: int = 0
    rejected: int = 0
    lost: int = 0
    backlog_batches: int = 0
    backlog_bytes: int = 0
    outbox_dropped: int = 0
    outbox_dropped_bytes: int = 0
    influx_ok: bool | None = None
    last_error: str = ""
    last_error_at: float | None = None


class MetricsSink:
    """Readings to InfluxDB without ever holding up the caller; see the module doc."""

    def __init__(
        self,
        settings: InfluxSettings,
        outbox: Outbox,
        schema: MetricSchema,
        options: SinkOptions | None = None,
        *,
        writer: InfluxWriter | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.schema = schema
        self.options = options or SinkOptions()
        if writer is None:
            # influxdb-client takes most of a second to import: only a site that
            # writes to InfluxDB pays for it, when its sink is made at start.
            from gateway.metrics.influx_writer import InfluxWriter

            writer = InfluxWriter(settings)
        self.writer = writer
        self._queue: deque[tuple[Reading, ...]] = deque()
        self._queued = 0
        self._arrived = asyncio.Event()
        self._lines: list[str] = []  # the batch being filled
        self._lines_bytes = 0
        self._in_hand: bytes | None = None  # a batch being written or stored
        self._backlog = True  # batches wait in the outbox: new ones queue behind them
        self._puts = 0  # outbox puts started: tells the drainer a backlog is growing
        self._backoff = Backoff(self.options.retry_base, self.options.retry_cap, jitter=1.0)
        self._n = _Counters()

    # -- the caller's side ------------------------------------------------------------

    async def submit(self, readings: Iterable[Reading]) -> None:
        """Queue readings for InfluxDB. Never waits: when the queue is full (the sink
        fell far behind), the oldest queued readings are dropped and counted."""
        self.offer(readings)

    def offer(self, readings: Iterable[Reading]) -> None:
        """`submit` for code that is not a coroutine."""
        batch = tuple(readings)
        if not batch:
            return
        self._queue.append(batch)
        self._queued += len(batch)
        self._n.submitted += len(batch)
        while self._queued > self.options.queue_readings and len(self._queue) > 1:
            dropped = self._queue.popleft()
            self._queued -= len(dropped)
            self._n.queue_dropped += len(dropped)
        self._arrived.set()

    def stats(self) -> SinkStats:
        n = self._n
        return SinkStats(
            submitted_readings=n.submitted,
            queued_readings=self._queued,
            queue_dropped_readings=n.queue_dropped,
            written_lines=n.written_lines,
            written_batches=n.written_batches,
            spilled_batches=n.spilled,
            drained_batches=n.drained,
            rejected_batches=n.rejected,
            lost_batches=n.lost,
            backlog_batches=n.backlog_batches,
            backlog_bytes=n.backlog_bytes,
            outbox_dropped_batches=n.outbox_dropped,
            outbox_dropped_bytes=n.outbox_dropped_bytes,
            influx_ok=n.influx_ok,
            last_error=n.last_error,
            last_error_at=n.last_error_at,
        )

    # -- the task ---------------------------------------------------------------------

    async def run(self) -> None:
        """Batch, write and drain until cancelled; then store what is still in memory in
        the outbox (sent after the next start) and close the HTTP client."""
        try:
            self._backlog = bool(await self.outbox.pending(1, classes=METRIC_CLASSES))
            await self._refresh_backlog()
            async with asyncio.TaskGroup() as group:
                group.create_task(self._batch_loop(), name="influx-batches")
                group.create_task(self._drain_loop(), name="influx-drain")
        finally:
            try:
                await self._store_leftovers()
            finally:
                await self.writer.close()

    async def _batch_loop(self) -> None:
        loop = asyncio.get_running_loop()
        options = self.options
        started = 0.0  # when the batch being filled got its first line
        while True:
            if not self._queue:
                self._arrived.clear()
                if not self._lines:
                    await self._arrived.wait()
                else:
                    wait = started + options.flush_interval - loop.time()
                    if wait > 0:
                        with suppress(TimeoutError):
                            async with asyncio.timeout(wait):
                                await self._arrived.wait()
            while self._queue:
                readings = self._queue.popleft()
                self._queued -= len(readings)
                lines = self.schema.lines(readings)
                if lines and not self._lines:
                    started = loop.time()
                # All of a submission's lines are held before any await, so a stop
                # while a batch is sent finds the rest in _lines and keeps it.
                self._lines += lines
                self._lines_bytes += sum(map(len, lines)) + len(lines)
                while (
                    len(self._lines) >= options.batch_lines
                    or self._lines_bytes >= options.batch_bytes
                ):
                    await self._send(self._take_batch())
                    started = loop.time()  # what is left arrived just now
                # One submission at a time: a backlog of them must not hold the loop
                # (and so the pollers and the trap path) for longer than one poll's lines.
                await asyncio.sleep(0)
            if self._lines and loop.time() >= started + options.flush_interval:
                await self._send(self._take_batch())

    def _take_batch(self) -> bytes:
        """The oldest lines, up to a batch's size (all of them at a flush or a stop)."""
        count, size = 0, 0
        for line in self._lines:
            if count and (
                count >= self.options.batch_lines or size + len(line) + 1 > self.options.batch_bytes
            ):
                break
            count += 1
            size += len(line) + 1
        payload = "\n".join(self._lines[:count]).encode()
        del self._lines[:count]
        self._lines_bytes -= size
        return payload

    async def _send(self, payload: bytes) -> None:
        """One batch: straight to InfluxDB, or into the outbox behind a backlog."""
        # Held until written or stored: a stop (cancel) in between finds it here.
        self._in_hand = payload
        if not self._backlog:
            try:
                await self.writer.write(payload)
            except InfluxRejected as exc:
                self._in_hand = None
                self._rejected(payload, exc, batches=1)
                return
            except InfluxUnavailable as exc:
                self._unavailable(exc)
            else:
                self._in_hand = None
                self._written(payload)
                return
        await self._store(payload)
        self._in_hand = None

    async def _store(self, payload: bytes) -> None:
        message = self._message(payload)
        self._puts += 1
        try:
            await self.outbox.put(message)
        except (OutboxError, ValueError) as exc:
            if self.outbox.closed:
                raise
            self._n.lost += 1
            log.error("metric batch lost: cannot store it in the outbox: %s", exc)
        else:
            self._n.spilled += 1
        await self._refresh_backlog()

    async def _drain_loop(self) -> None:
        while True:
            # The outbox runs its calls in order on one thread: a put started before
            # this query is committed before it runs, so an empty answer with no put
            # started since means the backlog is really gone.
            puts = self._puts
            waiting = await self.outbox.pending(self.options.drain_messages, classes=METRIC_CLASSES)
            if not waiting:
                if self._backlog and puts == self._puts:
                    self._backlog = False
                    log.info("influxdb backlog drained; batches go straight to InfluxDB")
                await self._refresh_backlog()
                await self.outbox.wait_for_items(classes=METRIC_CLASSES)
                continue
            chunk, payload = _chunk(waiting, self.options.drain_bytes)
            rejected = False
            try:
                await self.writer.write(payload)
            except InfluxRejected as exc:
                self._rejected(payload, exc, batches=len(chunk))
                rejected = True
            except InfluxUnavailable as exc:
                self._unavailable(exc)
                await self._refresh_backlog()
                await asyncio.sleep(self._backoff.next_delay())
                continue
            else:
                self._written(payload)
            self._backoff.reset()
            await self.outbox.ack([message.id for message in chunk])
            await self._refresh_backlog()
            if not rejected:  # counted once the backlog figures show it
                self._n.drained += len(chunk)

    def _message(self, payload: bytes) -> OutboxMessage:
        stored = gzip.compress(payload, compresslevel=STORE_GZIP_LEVEL, mtime=0)
        return OutboxMessage(self.settings.topic, stored, qos=0, message_class=MessageClass.METRIC)

    # -- bookkeeping ------------------------------------------------------------------

    def _written(self, payload: bytes) -> None:
        n = self._n
        n.written_batches += 1
        n.written_lines += payload.count(b"\n") + 1
        if n.influx_ok is False:
            log.info("influxdb at %s takes writes again", self.settings.url)
        n.influx_ok = True

    def _unavailable(self, exc: InfluxUnavailable) -> None:
        n = self._n
        self._backlog = True
        n.last_error, n.last_error_at = str(exc), time.time()
        if n.influx_ok is False:
            log.debug("influxdb still unavailable: %s", exc)
        elif isinstance(exc, InfluxRefused):
            log.error("influxdb refuses writes: %s; metrics wait in the outbox", exc)
        else:
            log.warning("influxdb unavailable: %s; metrics wait in the outbox", exc)
        n.influx_ok = False

    def _rejected(self, payload: bytes, exc: InfluxRejected, *, batches: int) -> None:
        n = self._n
        n.rejected += batches
        n.influx_ok = True  # it answered: the server is there
        n.last_error, n.last_error_at = str(exc), time.time()
        lines = payload.count(b"\n") + 1
        log.error("influxdb rejected %d lines (dropped, not retried): %s", lines, exc)

    async def _refresh_backlog(self) -> None:
        stats = await self.outbox.stats()
        backlog = stats.backlog.get(MessageClass.METRIC)
        dropped = stats.dropped.get(MessageClass.METRIC)
        n = self._n
        n.backlog_batches = backlog.messages if backlog else 0
        n.backlog_bytes = backlog.bytes if backlog else 0
        n.outbox_dropped = dropped.messages if dropped else 0
        n.outbox_dropped_bytes = dropped.bytes if dropped else 0

    async def _store_leftovers(self) -> None:
        """At stop: the batch in hand, the one being filled and the queued readings go
        to the outbox, so a restart sends them."""
        payloads = [self._in_hand] if self._in_hand is not None else []
        self._in_hand = None
        queued = [reading for readings in self._queue for reading in readings]
        self._queue.clear()
        self._queued = 0
        self._lines += self.schema.lines(queued)
        self._lines_bytes = sum(map(len, self._lines)) + len(self._lines)
        while self._lines:
            payloads.append(self._take_batch())
        if not payloads or self.outbox.closed:
            if payloads:
                log.warning("outbox closed: %d metric batches not kept at stop", len(payloads))
            return
        try:
            await self.outbox.put_many(self._message(p) for p in payloads)
        except (OutboxError, ValueError) as exc:
            log.warning("%d metric batches not kept at stop: %s", len(payloads), exc)


def _plain(payload: bytes) -> bytes:
    """A stored batch's line protocol (stored compressed; plain ones are taken as they are)."""
    return gzip.decompress(payload) if payload.startswith(_GZIP_MAGIC) else payload


def _chunk(messages: list[StoredMessage], max_bytes: int) -> tuple[list[StoredMessage], bytes]:
    """The oldest messages whose line protocol fits in one request (at least one), and
    that line protocol."""
    chunk: list[StoredMessage] = []
    parts: list[bytes] = []
    size = 0
    for message in messages:
        plain = _plain(message.payload)
        size += len(plain) + 1
        if chunk and size > max_bytes:
            break
        chunk.append(message)
        parts.append(plain)
    return chunk, b"\n".join(parts)
