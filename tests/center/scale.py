"""Several lvgw-center workers as a user runs them, a storm of ticket events from many
simulated sites, and a webhook receiver that records what it got: for the scale-out
tests (tests/center/test_scale_out.py) and bench/center_scale.py.

Each worker is ``python -m center run`` in its own process (so it can be killed with
SIGKILL); the sites are real MQTT connections publishing at QoS 1; the receiver is an
aiohttp server on a free loopback port that checks each signature as docs/center.md
states it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
from aiohttp import web

from center.ledger import LedgerUrl
from tests.center.events import ticket_event
from tests.httpreceiver import serving, signed
from tests.realservers import Mosquitto

KEY = b"scale-webhook-key"
# A broker for a storm: no cap on the messages queued for a worker (mosquitto's default
# of 1,000 drops the rest), as docs/center.md tells a deployment to set.
BROKER_CONFIG = "max_queued_messages 0\nmax_inflight_messages 1000\nset_tcp_nodelay true\n"


@dataclass(frozen=True, slots=True)
class Event:
    topic: str
    payload: bytes
    event_id: str
    ticket_id: str
    seq: int


def storm(sites: int, tickets_per_site: int, events_per_ticket: int) -> list[Event]:
    """Every site's tickets, each with its events seq 1..n, interleaved across tickets
    as many sites publishing at once would be (a ticket's own events in seq order)."""
    template = json.loads(ticket_event("template", 1))
    per_ticket: list[list[Event]] = []
    for s in range(sites):
        site_id = f"site-{s:04d}"
        template["site"]["id"] = site_id
        template["dedup_key"] = f"{site_id}/sw-core/device.unreachable/"
        for t in range(tickets_per_site):
            ticket_id = f"{site_id}-t{t}"
            events = []
            for seq in range(1, events_per_ticket + 1):
                template["event_id"] = f"{ticket_id}-e{seq}"
                template["ticket_id"] = ticket_id
                template["seq"] = seq
                template["event"] = "open" if seq == 1 else "update"
                payload = json.dumps(template, separators=(",", ":")).encode()
                topic = f"lvgw/v1/{site_id}/tickets"
                events.append(Event(topic, payload, f"{ticket_id}-e{seq}", ticket_id, seq))
            per_ticket.append(events)
    interleaved: list[Event] = []
    for round_ in range(events_per_ticket):
        interleaved.extend(events[round_] for events in per_ticket)
    return interleaved


async def publish(
    broker: Mosquitto,
    events: Sequence[Event],
    clients: int = 8,
    rate: float | None = None,
    statuses: bool = False,
) -> dict[str, float]:
    """Publish ``events`` at QoS 1 over ``clients`` connections (a site's events always
    on the same one, so their order holds), at ``rate`` events/s in all when given;
    with ``statuses``, each site's retained ``status`` first, as a gateway does when it
    connects. Returns each event's send time (time.time()) once the broker took it."""
    published: dict[str, float] = {}
    lanes: list[list[Event]] = [[] for _ in range(clients)]
    lane_of: dict[str, int] = {}
    for event in events:
        lanes[lane_of.setdefault(event.topic, len(lane_of) % clients)].append(event)
    per_lane_rate = None if rate is None else rate / clients
    connecting = asyncio.Semaphore(100)  # a connection storm the broker's backlog takes
    busy = [mine for mine in lanes if mine]
    connected: list[int] = []
    go = asyncio.Event()  # every site connected: the clock of ``rate`` starts
    start = [0.0]

    async def lane(mine: list[Event], index: int) -> None:
        async with connecting:
            site = aiomqtt.Client(
                broker.host, broker.port, identifier=f"site-load-{os.getpid()}-{index}",
                protocol=aiomqtt.ProtocolVersion.V5, max_inflight_messages=100, timeout=60,
            )  # fmt: skip
            await site.__aenter__()
        connected.append(index)
        if len(connected) == len(busy):
            start[0] = time.monotonic()
            go.set()
        try:
            await go.wait()
            if statuses:
                for topic in dict.fromkeys(e.topic for e in mine):
                    status = json.dumps({"state": "online", "version": "1.0"}).encode()
                    await site.publish(topic.replace("/tickets", "/status"), status, qos=1,
                                       retain=True)  # fmt: skip
            pending: set[asyncio.Task[None]] = set()
            for n, event in enumerate(mine):
                if per_lane_rate is not None:
                    delay = start[0] + n / per_lane_rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                sent_at = time.time()
                task = asyncio.create_task(site.publish(event.topic, event.payload, qos=1))
                task.add_done_callback(_record(published, event.event_id, sent_at))
                pending.add(task)
                task.add_done_callback(pending.discard)
                if len(pending) >= 100:
                    await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if pending:
                await asyncio.gather(*pending)
        finally:
            await site.__aexit__(None, None, None)

    await asyncio.gather(*(lane(mine, i) for i, mine in enumerate(busy)))
    return published


def _record(
    published: dict[str, float], event_id: str, sent_at: float
) -> Callable[[asyncio.Task[None]], None]:
    def done(_task: asyncio.Task[None]) -> None:
        published[event_id] = sent_at

    return done


@dataclass
class Receipt:
    event_id: str
    ticket_id: str
    seq: int
    at: float


@dataclass
class HookReceiver:
    """The helpdesk's webhook: checks each signature, answers ``status`` (set it to 503
    for an outage), keeps every receipt it answered 2xx, in arrival order."""

    status: int = 204
    receipts: list[Receipt] = field(default_factory=list)
    bad_signatures: int = 0
    refused: int = 0
    url: str = ""
    _serving: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    async def start(self) -> None:
        base = await self._serving.enter_async_context(serving(self._handle, "/hook"))
        self.url = f"{base}/hook"

    async def stop(self) -> None:
        await self._serving.aclose()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not signed(KEY, body, request.headers.get("X-Lvgw-Signature")):
            self.bad_signatures += 1
            return web.Response(status=401)
        if self.status >= 300:
            self.refused += 1
            return web.Response(status=self.status)
        event = json.loads(body)
        assert request.headers["X-Lvgw-Event-Id"] == event["event_id"]
        self.receipts.append(Receipt(event["event_id"], event["ticket_id"], event["seq"],
                                     time.time()))  # fmt: skip
        return web.Response(status=self.status)

    def received(self) -> set[str]:
        return {r.event_id for r in self.receipts}

    def duplicates(self) -> list[str]:
        seen: set[str] = set()
        again = []
        for receipt in self.receipts:
            if receipt.event_id in seen:
                again.append(receipt.event_id)
            seen.add(receipt.event_id)
        return again

    def out_of_order(self) -> list[str]:
        """Tickets whose events first arrived other than in seq order."""
        last: dict[str, int] = {}
        bad = []
        for receipt in self.receipts:
            previous = last.get(receipt.ticket_id, 0)
            if receipt.seq <= previous:
                continue  # a receipt again (the in-flight one), not a step back
            if receipt.seq != previous + 1:
                bad.append(receipt.ticket_id)
            last[receipt.ticket_id] = receipt.seq
        return bad


def write_config(
    directory: Path,
    broker: Mosquitto,
    ledger: LedgerUrl | str,
    hook: HookReceiver | None,
    client_id: str,
    group: str = "scale",
) -> Path:
    """A worker's CENTER.yaml. Workers of one ``group`` share its subscription: a group
    keeps sending a worker's share to its session while it is away (tests and benches
    that stop workers for good give the next ones a group of their own)."""
    directory.mkdir(parents=True, exist_ok=True)
    secret = directory / "hook.secret"
    secret.write_bytes(KEY + b"\n")
    secret.chmod(0o600)
    if isinstance(ledger, LedgerUrl):
        database = f"{{url: '{ledger.url}', password_file: '{ledger.password_file}'}}"
    else:
        database = ledger
    adapters = "[]"
    if hook is not None:
        adapters = (
            f"[{{type: webhook, url: '{hook.url}', secret_file: hook.secret,"
            " backoff_initial: 0.2s, backoff_max: 2s}]"
        )
    path = directory / f"{client_id}.yaml"
    path.write_text(
        f"broker: {{host: {broker.host}, port: {broker.port}, group: {group},"
        f" client_id: {client_id}}}\n"
        f"database: {database}\n"
        f"adapters: {adapters}\n"
        "ingest: {gap_after: 60s}\n"
    )
    return path


class Worker:
    """One ``lvgw-center run`` process; its log (stderr) in ``log_path``."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.log_path = config.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None
        self._mark = 0  # where this run's log starts

    def start(self) -> None:
        self._mark = len(self.log()) if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "center", "run", "-c", str(self.config)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def subscribed(self, timeout: float = 30.0) -> None:
        """Wait until this run's session is subscribed (as its log says)."""
        deadline = time.monotonic() + timeout
        while "subscribed to" not in self.log()[self._mark :]:
            assert self.proc is not None and self.proc.poll() is None, self.log()
            assert time.monotonic() < deadline, f"not subscribed in {timeout} s:\n{self.log()}"
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no goodbye, no acknowledgement, no commit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@contextlib.contextmanager
def workers(configs: Sequence[Path]) -> Iterator[list[Worker]]:
    started = [Worker(config) for config in configs]
    try:
        for worker in started:
            worker.start()
        yield started
    finally:
        for worker in started:
            worker.stop()


async def wait_until(predicate: object, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(interval)
