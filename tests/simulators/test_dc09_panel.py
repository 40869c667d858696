"""The simulated panel reporting over DC-09, with pysiaalarm as the referee: its TCP
receiver (plain and encrypted, SIA DC-03 and Contact ID) parses and acknowledges
every message; over UDP, pysiaalarm's parser answers each datagram (its own UDP
server cannot run on Python 3.11: it asserts a transport type asyncio does not
give). A scripted receiver then checks how the panel takes NAK, DUH, silence and
forged answers, and what it sends around comm_lost, down and a restart."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pysiaalarm.account import SIAAccount
from pysiaalarm.aio.client import SIAClient
from pysiaalarm.aio.server import SIAServerUDP
from pysiaalarm.event import SIAEvent
from pysiaalarm.utils.counter import Counter

from simulators.fleet import load_fleet
from simulators.runtime import FleetRuntime

pytestmark = pytest.mark.integration  # receivers on loopback sockets

ACCOUNT = "5A17"
TEXT_KEY = "PanelKeyPanelKey"
WAIT = 5.0  # seconds for a message that is due now to arrive (a loaded machine)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def fleet(tmp_path: Path, sia: str, zones: int = 4) -> AsyncIterator[FleetRuntime]:
    """A fleet of one DC-09 panel (``sia``: its settings, YAML flow) run in-process."""
    path = tmp_path / "fleet.yaml"
    path.write_text(f"devices:\n  - {{id: p, kind: alarm_panel, zones: {zones}, sia: {{{sia}}}}}\n")
    runtime = FleetRuntime(load_fleet(path))
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


def sia_state(runtime: FleetRuntime) -> dict[str, Any]:
    state: dict[str, Any] = runtime.model("p").state()["sia"]
    return state


async def until_sent(runtime: FleetRuntime) -> None:
    """Until the panel has nothing left to send."""
    async with asyncio.timeout(WAIT):
        while sia_state(runtime)["pending"]:
            await asyncio.sleep(0.05)


@dataclass
class Heard:
    """What a receiver heard, in order."""

    events: list[SIAEvent] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, event: SIAEvent) -> None:
        self.events.append(event)
        self.changed.set()

    async def until(self, count: int, timeout: float = WAIT) -> list[SIAEvent]:
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.events


def what(event: SIAEvent) -> str:
    """An event as the panel meant it: SIA code and number, or Contact ID's fields."""
    if event.event_type is not None:
        return f"{event.event_qualifier}{event.event_type} {event.partition} {event.ri}"
    return f"{event.code}{event.message}"


@asynccontextmanager
async def pysiaalarm_tcp(port: int, key: str | None) -> AsyncIterator[Heard]:
    heard = Heard()

    async def take(event: SIAEvent) -> None:
        heard.add(event)

    # SIAClient.__new__ picks the TCP subclass (instantiating that one directly fails)
    client = SIAClient("127.0.0.1", port, [SIAAccount(ACCOUNT, key)], take)  # type: ignore[abstract]
    await client.async_start()
    try:
        yield heard
    finally:
        await client.async_stop()


class _PysiaalarmDatagrams(asyncio.DatagramProtocol):
    """pysiaalarm's UDP server logic (parse, check, answer) on a working transport."""

    def __init__(self, key: str | None, heard: Heard) -> None:
        self.server = SIAServerUDP({ACCOUNT: SIAAccount(ACCOUNT, key)}, self._take, Counter())
        self.heard = heard
        self.transport: asyncio.DatagramTransport | None = None

    async def _take(self, event: SIAEvent) -> None:
        self.heard.add(event)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        event = self.server.parse_and_check_event(data)
        if event is None or self.transport is None:
            return
        self.transport.sendto(event.create_response(), addr)
        if isinstance(event, SIAEvent) and event.response is not None:
            self.heard.add(event)


@asynccontextmanager
async def pysiaalarm_udp(port: int, key: str | None) -> AsyncIterator[Heard]:
    heard = Heard()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _PysiaalarmDatagrams(key, heard), local_addr=("127.0.0.1", port)
    )
    try:
        yield heard
    finally:
        transport.close()


AT_START = {
    "sia": ["RR000", "CL001", "RP000"],
    "cid": ["1305 01 000", "3401 01 001", "1602 01 000"],
}
# fault (and its parameters) -> what the panel reports when it is injected and cleared
FAULTS: list[tuple[str, dict[str, str], dict[str, tuple[str, str]]]] = [
    ("mains_fail", {}, {"sia": ("AT000", "AR000"), "cid": ("1301 01 000", "3301 01 000")}),
    ("battery_low", {}, {"sia": ("YT000", "YR000"), "cid": ("1302 01 000", "3302 01 000")}),
    ("box_tamper", {}, {"sia": ("TA000", "TR000"), "cid": ("1137 01 000", "3137 01 000")}),
    ("siren_fault", {}, {"sia": ("YA000", "YH000"), "cid": ("1321 01 000", "3321 01 000")}),
    ("disarmed", {}, {"sia": ("OP001", "CL001"), "cid": ("1401 01 001", "3401 01 001")}),
    ("zone_tamper", {"zone": "2"}, {"sia": ("TA002", "TR002"), "cid": ("1383 01 002", "3383 01 002")}),
    ("zone_fault", {"zone": "3"}, {"sia": ("BT003", "BJ003"), "cid": ("1380 01 003", "3380 01 003")}),
    ("detector_battery_low", {"zone": "4"},
     {"sia": ("XT004", "XR004"), "cid": ("1384 01 004", "3384 01 004")}),
    ("zone_alarm", {"zone": "1"}, {"sia": ("BA001", "BH001"), "cid": ("1130 01 001", "3130 01 001")}),
    ("zone_bypass", {"zone": "2"}, {"sia": ("BB002", "BU002"), "cid": ("1570 01 002", "3570 01 002")}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("events", "key", "settings"),
    [
        ("sia", None, ""),
        ("sia", TEXT_KEY, f"key: {TEXT_KEY}, key_format: text"),
        ("cid", "0123456789abcdef01234567", "key: 0123456789abcdef01234567, key_format: text"),
        # the hex of "PanelKeyPanelKey": pysiaalarm takes keys as text only
        ("cid", TEXT_KEY, "key: 50616E656C4B657950616E656C4B6579"),
        ("sia", "k" * 32, f"key: {'k' * 32}, key_format: text"),
    ],
    ids=["sia-plain", "sia-aes128", "cid-aes192", "cid-aes128-hex", "sia-aes256"],
)
async def test_pysiaalarm_takes_every_event_over_tcp(
    tmp_path: Path, events: str, key: str | None, settings: str
) -> None:
    port = free_port()
    extra = f", {settings}" if settings else ""
    sia = f"receiver: 127.0.0.1:{port}, account: '{ACCOUNT}', receiver_number: '1', " \
          f"events: {events}, ack_timeout: 1s{extra}"  # fmt: skip
    async with pysiaalarm_tcp(port, key) as heard, fleet(tmp_path, sia) as runtime:
        expected = list(AT_START[events])
        await heard.until(len(expected))
        for fault, params, reported in FAULTS:
            runtime.inject("p", fault, params)
            runtime.clear("p", fault)
            expected += reported[events]
        got = await heard.until(len(expected))
        assert [what(event) for event in got] == expected
        assert all(e.account == ACCOUNT and e.encrypted == (key is not None) for e in got)
        assert all(e.valid_message and e.valid_timestamp and e.code for e in got)
        sequences = [int(e.sequence or 0) for e in got]
        assert sequences == list(range(1, len(expected) + 1))
        # Every message was taken by its first try: pysiaalarm's ACKs (encrypted ones
        # for an encrypted account) were accepted by the panel.
        await until_sent(runtime)
        state = sia_state(runtime)
        assert (state["sent"], state["delivered"]) == (len(expected), len(expected)), state


@pytest.mark.parametrize("key", [None, TEXT_KEY])
async def test_over_udp_each_datagram_is_one_message(tmp_path: Path, key: str | None) -> None:
    port = free_port(socket.SOCK_DGRAM)
    secret = f", key: {key}, key_format: text" if key else ""
    sia = f"receiver: 127.0.0.1:{port}, transport: udp, account: '{ACCOUNT}', " \
          f"receiver_number: '1', ack_timeout: 1s{secret}"  # fmt: skip
    async with pysiaalarm_udp(port, key) as heard, fleet(tmp_path, sia) as runtime:
        await heard.until(3)
        runtime.inject("p", "zone_fault", {"zone": "2"})
        got = await heard.until(4)
        assert [what(event) for event in got] == [*AT_START["sia"], "BT002"]
        async with asyncio.timeout(WAIT):
            while sia_state(runtime)["delivered"] < 4:
                await asyncio.sleep(0.05)
        assert sia_state(runtime)["sent"] == 4


# -- a scripted receiver ------------------------------------------------------------


def answer(body: str) -> bytes:
    """An answer frame, CRC by pysiaalarm's function (not the panel's)."""
    return f"\n{SIAEvent._crc_calc(body)}0{len(body):03X}{body}\r".encode()


def ack(event: SIAEvent) -> bytes:
    return answer(f'"ACK"{event.sequence}L0#{event.account}[]')


def received_at(event: SIAEvent) -> datetime:
    assert isinstance(event.timestamp, datetime)
    return event.timestamp


@dataclass
class Scripted:
    """A TCP receiver that reads each message with pysiaalarm and answers what
    ``reply(event, tries)`` says (None: nothing); ``tries`` counts the frames of that
    sequence number so far."""

    reply: Callable[[SIAEvent, int], bytes | None]
    key: str | None = None
    heard: Heard = field(default_factory=Heard)
    arrived: list[float] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accounts = {ACCOUNT: SIAAccount(ACCOUNT, self.key, allowed_timeband=None)}
        try:
            while line := await reader.readuntil(b"\r"):
                event = SIAEvent.from_line(line.decode().strip(), accounts)
                tries = sum(1 for e in self.heard.events if e.sequence == event.sequence) + 1
                self.arrived.append(asyncio.get_running_loop().time())
                self.heard.add(event)
                reply = self.reply(event, tries)
                if reply is not None:
                    writer.write(reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def scripted(
    tmp_path: Path, script: Scripted, settings: str = ""
) -> AsyncIterator[tuple[Scripted, FleetRuntime]]:
    server = await asyncio.start_server(script.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sia = f"receiver: 127.0.0.1:{port}, account: '{ACCOUNT}', ack_timeout: 0.5s{settings}"
    try:
        async with fleet(tmp_path, sia) as runtime:
            yield script, runtime
    finally:
        server.close()
        await server.wait_closed()


async def test_no_answer_sends_the_same_message_again(tmp_path: Path) -> None:
    def reply(event: SIAEvent, tries: int) -> bytes | None:
        return ack(event) if event.sequence != "0001" or tries >= 3 else None

    async with scripted(tmp_path, Scripted(reply)) as (script, runtime):
        got = await script.heard.until(5)  # RR three times, then CL, RP
        assert [(what(e), e.sequence) for e in got] == [
            ("RR000", "0001"), ("RR000", "0001"), ("RR000", "0001"),
            ("CL001", "0002"), ("RP000", "0003"),
        ]  # fmt: skip
        gaps = [b - a for a, b in zip(script.arrived[:3], script.arrived[1:3], strict=False)]
        assert all(gap >= 0.45 for gap in gaps), gaps  # ack_timeout apart
        assert received_at(got[0]) <= received_at(got[2])  # each try has its own time
        assert sia_state(runtime)["timeouts"] == 2


async def test_nak_sets_the_panel_clock_and_the_message_goes_again(tmp_path: Path) -> None:
    ahead = datetime.now(UTC) + timedelta(hours=1)

    def reply(event: SIAEvent, tries: int) -> bytes | None:
        if event.sequence == "0001" and tries == 1:
            return answer(f'"NAK"0000R0L0A0[]{ahead:_%H:%M:%S,%m-%d-%Y}')
        return ack(event)

    async with scripted(tmp_path, Scripted(reply)) as (script, runtime):
        got = await script.heard.until(3)
        assert [(what(e), e.sequence) for e in got] == [
            ("RR000", "0001"), ("RR000", "0001"), ("CL001", "0002")]  # fmt: skip
        assert abs((received_at(got[0]) - datetime.now(UTC)).total_seconds()) < 5
        assert abs((received_at(got[1]) - ahead).total_seconds()) < 5  # the receiver's time
        assert abs((received_at(got[2]) - ahead).total_seconds()) < 5
        assert sia_state(runtime)["naks"] == 1


async def test_duh_drops_the_message_and_forged_answers_are_ignored(tmp_path: Path) -> None:
    def reply(event: SIAEvent, tries: int) -> bytes | None:
        if event.sequence == "0001":  # RR: the receiver cannot process it
            return answer(f'"DUH"{event.sequence}L0#{event.account}[]')
        if event.sequence == "0002" and tries == 1:  # CL: answers to something else
            return (
                answer(f'"ACK"0099L0#{event.account}[]')
                + answer(f'"ACK"{event.sequence}L0#FFFF[]')
                + answer(
                    f'"*ACK"{event.sequence}L0#{event.account}[00112233445566778899AABBCCDDEEFF'
                )
                + ack(event)[:-3]
                + b"\r"  # a CRC that does not match
            )
        return ack(event)

    async with scripted(tmp_path, Scripted(reply)) as (script, runtime):
        got = await script.heard.until(4)
        assert [(what(e), e.sequence) for e in got] == [
            ("RR000", "0001"), ("CL001", "0002"), ("CL001", "0002"), ("RP000", "0003")]  # fmt: skip
        await until_sent(runtime)
        state = sia_state(runtime)
        assert (state["refused"], state["delivered"], state["timeouts"]) == (1, 2, 1), state


async def test_an_encrypted_account_takes_only_an_encrypted_ack(tmp_path: Path) -> None:
    def reply(event: SIAEvent, tries: int) -> bytes | None:
        if tries == 1:
            return ack(event)  # plain: anyone could have written it
        return event.create_response()  # pysiaalarm's *ACK, encrypted with the key

    # (pysiaalarm writes "None" for the receiver number of a message without one)
    settings = f", key: {TEXT_KEY}, key_format: text, receiver_number: '1'"
    async with scripted(tmp_path, Scripted(reply, TEXT_KEY), settings) as (script, runtime):
        got = await script.heard.until(4)
        assert [(what(e), e.sequence, e.encrypted) for e in got] == [
            ("RR000", "0001", True), ("RR000", "0001", True), ("CL001", "0002", True),
            ("CL001", "0002", True)]  # fmt: skip
        assert sia_state(runtime)["timeouts"] >= 2


async def test_comm_lost_down_and_restart(tmp_path: Path) -> None:
    async with scripted(tmp_path, Scripted(lambda e, tries: ack(e)), ", test_period: 1s") as (
        script,
        runtime,
    ):
        heard = script.heard
        await heard.until(4)  # RR, CL, RP, and the next test report a second later
        # Each step starts with nothing in flight (no await between the check and the
        # fault), so what is heard after its mark is what the step made it send.
        await until_sent(runtime)
        runtime.inject("p", "comm_lost")
        runtime.inject("p", "mains_fail")
        mark = len(heard.events)
        await asyncio.sleep(2.5)  # two test periods: nothing gets out
        assert heard.events[mark:] == []
        # Mains lost waits in its buffer, and one test report (not one per period).
        assert sia_state(runtime)["pending"] == 2
        runtime.clear("p", "comm_lost")
        got = await heard.until(mark + 3)
        assert [what(e) for e in got[mark : mark + 3]] == ["AT000", "RP000", "YK000"]
        await heard.until(len(heard.events) + 1)  # test reports again
        assert what(heard.events[-1]) == "RP000"

        await until_sent(runtime)
        runtime.inject("p", "down")
        mark = len(heard.events)
        await asyncio.sleep(2.5)
        assert heard.events[mark:] == []
        runtime.clear("p", "down")  # it boots and says what it finds: on battery still
        got = await heard.until(mark + 4)
        assert [what(e) for e in got[mark : mark + 4]] == ["RR000", "AT000", "CL001", "RP000"]

        await until_sent(runtime)
        runtime.clear("p")
        runtime.inject("p", "restart")  # what was not sent yet (AR) is lost with the power
        mark = len(heard.events)
        got = await heard.until(mark + 3)
        assert [what(e) for e in got[mark : mark + 3]] == ["RR000", "CL001", "RP000"]


def test_dc09_panels_have_their_own_fault_set(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "devices:\n"
        "  - {id: m, kind: alarm_panel, port: 1502}\n"
        "  - {id: p, kind: alarm_panel, sia: {receiver: 127.0.0.1:1, account: '123'}}\n"
    )
    runtime = FleetRuntime(load_fleet(path))
    catalogue = runtime.catalogue()
    assert set(catalogue) == {"alarm_panel", "alarm_panel/sia"}
    assert set(catalogue["alarm_panel/sia"]) - set(catalogue["alarm_panel"]) == {
        "siren_fault", "clock_skew"}  # fmt: skip
    assert "sends nothing" in catalogue["alarm_panel/sia"]["comm_lost"]["help"]
    state = runtime.model("p").state()
    assert (state["protocol"], state["fault_set"]) == ("sia", "alarm_panel/sia")
    assert state["sia"]["pending"] == 0 and state["endpoint"] == "tcp->127.0.0.1:1"
