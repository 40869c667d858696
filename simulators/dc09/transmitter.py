"""A simulated panel's DC-09 transmitter: it reports what changes, sends its periodic
test report, and sends each message until the receiver has answered it.

What the panel sends:
- when it starts (and after every power-up): ``RR`` (power up), then what it finds
  (its arming, any trouble already present), then a test report, which starts its
  test period;
- every change of a reported state (``events.conditions``), as it happens, in order
  (changes it cannot send yet wait in its buffer, in order);
- every ``test_period``: ``RP`` (Contact ID 602);
- after its path to the receiver was lost (``comm_lost``): what changed meanwhile and
  ``YK`` (communications restoral).
It sends nothing while it is off, flat, cut off behind a dead switch port, or while
``comm_lost`` holds: what happens meanwhile waits in its buffer, a test report that
falls due too (one, however many periods pass), and goes out when the path is back;
when it is off or flat it notices nothing, and loses what it had not sent.

How it sends (ANSI/SIA DC-09-2013, 5.5.3), one message at a time, oldest first:
- ``ACK`` (for an encrypted account ``*ACK`` whose data decrypts with the key) with
  the message's sequence number and account: delivered, the next one goes;
- ``NAK``: the receiver's clock disagrees with the panel's; the panel takes the time
  the NAK carries as its own and sends the message again at once with a new
  timestamp (at most ``NAK_RESENDS`` times in a row, then it waits as for a timeout);
- ``DUH``: the receiver cannot process it; sending it again would not change that, so
  the message is dropped (and counted);
- no answer within ``ack_timeout``, or no connection: the same message, same
  sequence number, new timestamp, ``ack_timeout`` after the previous try, until it is
  answered.

Unlike the polled devices this is a timer per panel: a DC-09 panel is the one that
speaks first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from simulators.dc09 import codec
from simulators.dc09.events import TOKENS, PanelEvent, at_power_up, changes, conditions
from simulators.dc09.link import LinkError, open_link
from simulators.endpoints import split_endpoint
from simulators.models.base import DeviceModel
from simulators.models.events import Booted, Event
from simulators.models.panel import SiaPanelModel
from simulators.yamlfile import parse_duration

log = logging.getLogger("simulators.dc09")

NAK_RESENDS = 3
WATCH_SECONDS = 1.0  # how often a panel on battery or cut off looks at itself again


@dataclass(slots=True)
class Outgoing:
    event: PanelEvent
    seq: int


@dataclass(slots=True)
class Counts:
    sent: int = 0  # frames written, tries included
    delivered: int = 0  # messages acknowledged
    refused: int = 0  # messages answered DUH (dropped)
    naks: int = 0
    timeouts: int = 0
    link_errors: int = 0
    last_delivered: float | None = None  # Unix time of the last ACK


class Transmitter:
    """The DC-09 side of one ``SiaPanelModel``; ``run()`` until cancelled."""

    def __init__(self, panel: SiaPanelModel) -> None:
        sia = panel.device.sia
        assert sia is not None
        self.panel = panel
        self.settings = sia
        self.account = codec.Account(
            sia.account.upper(),
            sia.prefix.upper(),
            sia.receiver_number.upper() if sia.receiver_number else None,
            sia.key_bytes(),
        )
        self.token = TOKENS[sia.events]
        self.ack_timeout = parse_duration(sia.ack_timeout)
        self.test_period = parse_duration(sia.test_period)
        self.link = open_link(sia.transport, panel.device.address, split_endpoint(sia.receiver))
        self.pending: deque[Outgoing] = deque()
        self.reported = at_power_up(panel)
        self.seq = 0
        self.correction = 0.0  # seconds added to the panel's clock, learnt from NAKs
        self.counts = Counts()
        self.wake = asyncio.Event()
        self._booted = True  # it starts as after a power-up
        self._cut_off = False  # comm_lost held, or no path: report a restoral after
        self._unreachable = False  # logged once while the receiver does not answer
        panel.listeners.append(self._on_event)
        panel.protocol_state["sia"] = self.status

    def _on_event(self, model: DeviceModel, event: Event) -> None:
        if isinstance(event, Booted):
            self._booted = True
        elif self._running():
            self._collect()  # now: a fault injected and cleared at once is two events
        self.wake.set()

    def _running(self) -> bool:
        """The panel is on (powered, battery not flat): it notices what happens."""
        return self.panel.powered and not self.panel.depleted()

    def status(self) -> dict[str, Any]:
        counts = self.counts
        last = counts.last_delivered
        return {
            "receiver": self.settings.receiver,
            "transport": self.settings.transport,
            "account": self.account.number,
            "encrypted": self.account.key is not None,
            "pending": len(self.pending),
            "sent": counts.sent,
            "delivered": counts.delivered,
            "refused": counts.refused,
            "naks": counts.naks,
            "timeouts": counts.timeouts,
            "link_errors": counts.link_errors,
            "last_delivered": datetime.fromtimestamp(last, UTC).isoformat() if last else None,
        }

    # -- what to send ----------------------------------------------------------------

    def _queue(self, event: PanelEvent) -> None:
        self.seq = codec.next_sequence(self.seq)
        self.pending.append(Outgoing(event, self.seq))

    def _collect(self) -> None:
        now = conditions(self.panel)
        for event in changes(self.reported, now):
            self._queue(event)
        self.reported = dict(now)

    def _power_up(self) -> None:
        self._booted = False
        self.pending.clear()  # what it had not sent is lost with its power
        self.reported = at_power_up(self.panel)
        self._queue(PanelEvent("power_up", True))
        self._collect()
        self._queue(PanelEvent("test", True))

    def _test_pending(self) -> bool:
        return any(out.event.name == "test" for out in self.pending)

    # -- the loop --------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_test = loop.time() + self.test_period
        retry_at = 0.0
        try:
            while True:
                self.panel.refresh()
                now = loop.time()
                running = self._running()
                can_send = running and self.panel.answering() and not self.panel.comm_failure
                if running and self._booted:
                    self._power_up()
                    next_test = now + self.test_period
                if running:
                    self._collect()  # what moves by itself: the battery on its own
                if can_send and self._cut_off:
                    self._cut_off = False
                    self._queue(PanelEvent("comm_restored", True))
                elif running and self.panel.comm_failure:
                    self._cut_off = True
                if now >= next_test:
                    if running and not self._test_pending():
                        self._queue(PanelEvent("test", True))
                    next_test = max(next_test + self.test_period, now + 1.0)
                if can_send and self.pending and now >= retry_at:
                    started = loop.time()
                    if await self._send(self.pending[0]):
                        self.pending.popleft()
                        retry_at = 0.0
                    else:
                        retry_at = started + self.ack_timeout
                    continue
                await self._sleep(loop, next_test, retry_at, can_send)
        finally:
            await self.link.close()

    async def _sleep(
        self, loop: asyncio.AbstractEventLoop, next_test: float, retry_at: float, can_send: bool
    ) -> None:
        """Until a change is announced, the next test report, the next try, or a
        second while the panel's state moves by itself (on battery) or it is cut off."""
        deadline = next_test
        if self.pending and retry_at:
            deadline = min(deadline, retry_at)
        if not can_send or self.panel.on_battery:
            deadline = min(deadline, loop.time() + WATCH_SECONDS)
        self.wake.clear()
        try:
            async with asyncio.timeout(max(0.0, deadline - loop.time())):
                await self.wake.wait()
        except TimeoutError:
            pass

    async def _send(self, out: Outgoing) -> bool:
        """One message until answered: True once ACKed or refused (DUH), False when
        it must be tried again later (no answer, no connection, NAKs in a row)."""
        for _ in range(NAK_RESENDS + 1):
            at = datetime.fromtimestamp(self.panel.wall_clock() + self.correction, UTC)
            data = out.event.data(self.settings.events)
            raw = codec.message(self.token, out.seq, self.account, data, at)
            self.counts.sent += 1
            try:
                answer = await self.link.exchange(
                    raw, lambda a: self._answers(a, out.seq), self.ack_timeout
                )
            except LinkError as exc:
                self.counts.link_errors += 1
                self._lost(f"cannot reach the receiver: {exc}")
                return False
            if answer is None:
                self.counts.timeouts += 1
                self._lost(f"no answer within {self.ack_timeout:g} s")
                return False
            if self._unreachable:
                self._unreachable = False
                log.info("%s: DC-09 receiver %s answers again", self.panel.id,
                         self.settings.receiver)  # fmt: skip
            if answer.token == "ACK":
                self.counts.delivered += 1
                self.counts.last_delivered = time.time()
                log.debug("%s: DC-09 %s seq %04d acknowledged", self.panel.id, data, out.seq)
                return True
            if answer.token == "DUH":
                self.counts.refused += 1
                log.warning("%s: DC-09 receiver refused %s seq %04d (DUH): dropped",
                            self.panel.id, data, out.seq)  # fmt: skip
                return True
            self.counts.naks += 1
            theirs = answer.time()
            if theirs is not None:
                self.correction = theirs.timestamp() - self.panel.wall_clock()
                log.info("%s: DC-09 NAK: clock set to the receiver's (%+.0f s)",
                         self.panel.id, self.correction)  # fmt: skip
        return False

    def _answers(self, answer: codec.Answer, seq: int) -> bool:
        """Whether ``answer`` is the receiver's answer to message ``seq``."""
        if answer.token == "NAK":
            return True  # a NAK carries no sequence number: it answers what was sent
        if answer.seq != seq or answer.account != self.account.number:
            return False
        key = self.account.key
        if answer.token == "ACK" and (key is not None) != answer.encrypted:
            return False  # an encrypted account's ACK is encrypted, a plain one's is not
        if answer.token == "ACK" and key is not None:
            text = codec.decrypt(key, answer.data)
            return text is not None and "]" in text  # only the key's holder wrote it
        return True

    def _lost(self, why: str) -> None:
        if not self._unreachable:
            self._unreachable = True
            log.warning("%s: DC-09 receiver %s: %s; trying again every %g s", self.panel.id,
                        self.settings.receiver, why, self.ack_timeout)  # fmt: skip


class Transmitters:
    """The transmitters of every DC-09 panel of a fleet."""

    def __init__(self, models: list[DeviceModel]) -> None:
        self.transmitters = [Transmitter(m) for m in models if isinstance(m, SiaPanelModel)]
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for transmitter in self.transmitters:
            task = asyncio.create_task(transmitter.run(), name=f"dc09:{transmitter.panel.id}")
            task.add_done_callback(_log_failure)
            self._tasks.append(task)

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped", task.get_name(), exc_info=task.exception())
