"""The DC-09 receiver on real TCP and UDP sockets, against frames pysiaalarm builds:
ACK, NAK, DUH or silence as DC-09-2013 says, each refusal counted and logged once,
replays taken once, bounded under a flood."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator

import pytest
from pysiaalarm.account import SIAAccount
from pysiaalarm.event import SIAEvent

from drivers.sia import content, frame
from drivers.sia.receiver import Account, Dc09Receiver, ReceiverConfig
from tests.drivers.sia.build import longer_than_it_says, pysia_frame, stamp, with_bad_crc

pytestmark = pytest.mark.integration

KEY = "K3yK3yK3yK3yK3yK"  # AES-128 as 16 characters of text
PLAIN = Account("1234", name="panel-plain")
SECRET = Account("ABCD", key=KEY.encode(), name="panel-secret")
PREFIXED = Account("5678", prefix="42", receiver="7", name="panel-prefixed")


@pytest.fixture
async def receiver() -> AsyncIterator[Dc09Receiver]:
    settings = ReceiverConfig("127.0.0.1", 0, (PLAIN, SECRET, PREFIXED), max_connections=8)
    async with Dc09Receiver(settings) as running:
        yield running


async def ask(receiver: Dc09Receiver, *frames: bytes, expect: int = 1) -> bytes:
    """Send frames on one TCP connection; the first ``expect`` answers (a frame that
    gets none is followed by one that does: answers come in order)."""
    reader, writer = await asyncio.open_connection(*receiver.address)
    try:
        for data in frames:
            writer.write(data)
        await writer.drain()
        got = b""
        async with asyncio.timeout(10):
            while got.count(b"\r") < expect:
                chunk = await reader.read(4096)
                if not chunk:
                    break
                got += chunk
        return got
    finally:
        writer.close()
        await writer.wait_closed()


def answers(data: bytes) -> list[frame.Frame]:
    return [frame.parse(m) for m in re.findall(rb"\n[^\r]*\r", data)]


async def test_plain_message_acknowledged_as_pysiaalarm_would(receiver: Dc09Receiver) -> None:
    sent = pysia_frame("#1234|Nri1/AT0]" + stamp(), seq="0042", receiver="3")
    got = await ask(receiver, sent)
    event = SIAEvent.from_line(sent[1:-1].decode(), {"1234": SIAAccount("1234")})
    assert got == event.create_response()  # the referee's ACK, byte for byte
    message = receiver.get_nowait()
    assert message is not None
    assert (message.account.name, message.seq) == ("panel-plain", "0042")
    assert [(e.code, e.number, e.area) for e in message.events] == [("AT", 0, 1)]


async def test_encrypted_message_gets_an_encrypted_ack(receiver: Dc09Receiver) -> None:
    sent = pysia_frame("|Nri1/TA4]" + stamp(), account="ABCD", seq="0007", key=KEY)
    (reply,) = answers(await ask(receiver, sent))
    assert (reply.id_token, reply.seq, reply.account) == ("*ACK", "0007", "ABCD")
    text = content.decrypt(KEY.encode(), reply.data)
    assert re.fullmatch(r"\]_\d\d:\d\d:\d\d,\d\d-\d\d-\d{4}", text)
    message = receiver.get_nowait()
    assert message is not None
    assert message.events[0].code == "TA"


async def test_udp_is_served_on_the_same_port(receiver: Dc09Receiver) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, receiver.address)
        await loop.sock_sendall(sock, pysia_frame("|1602 00 000]" + stamp(), token="ADM-CID"))
        async with asyncio.timeout(2):
            reply = await loop.sock_recv(sock, 4096)
    finally:
        sock.close()
    assert answers(reply)[0].id_token == "ACK"
    message = receiver.get_nowait()
    assert message is not None
    assert (message.transport, message.events[0].code) == ("udp", "1602")


async def test_null_link_test_is_acknowledged(receiver: Dc09Receiver) -> None:
    (reply,) = answers(await ask(receiver, pysia_frame("]" + stamp(), token="NULL")))
    assert reply.token == "ACK"
    message = receiver.get_nowait()
    assert message is not None
    assert message.events == ()


@pytest.mark.parametrize(
    ("sent", "cause"),
    [
        (with_bad_crc(pysia_frame("|Nri1/AT0]")), "crc"),
        (longer_than_it_says(pysia_frame("|Nri1/AT0]")), "length"),
        (b"hello, is this the alarm receiver?\r", "framing"),
    ],
    ids=["bad-crc", "bad-length", "garbage"],
)
async def test_frames_not_received_correctly_get_no_answer(
    receiver: Dc09Receiver, sent: bytes, cause: str
) -> None:
    good = pysia_frame("|Nri1/AT0]" + stamp(), seq="0002")
    replies = answers(await ask(receiver, sent, good))
    assert [(r.token, r.seq) for r in replies] == [("ACK", "0002")]  # the good one only
    assert receiver.stats.refused[cause] == 1


@pytest.mark.parametrize(
    ("sent", "cause"),
    [
        (pysia_frame("|Nri1/AT0]" + stamp(), account="9999"), "account"),
        (pysia_frame("|Nri1/AT0]" + stamp(), account="5678", prefix="41"), "account"),
        (pysia_frame("|Nri1/AT0]" + stamp(), account="ABCD", key="WrongWrongWrong!"), "key"),
        (pysia_frame("|Nri1/AT0]" + stamp(), account="ABCD"), "encryption"),
        (pysia_frame("|Nri1/AT0]" + stamp(), key=KEY), "encryption"),
        (pysia_frame("|this is not SIA]" + stamp()), "data"),
        (pysia_frame("|Nri1/AT0]" + stamp(), token="SIA-DCX"), "token"),
    ],
    ids=[
        "unknown-account",
        "wrong-prefix",
        "wrong-key",
        "plain-for-key",
        "key-for-plain",
        "bad-data",
        "unknown-token",
    ],
)
async def test_unprocessable_messages_get_duh(
    receiver: Dc09Receiver, sent: bytes, cause: str
) -> None:
    (reply,) = answers(await ask(receiver, sent))
    assert reply.token == "DUH"
    assert reply.seq == frame.parse(sent).seq
    assert receiver.stats.refused[cause] == 1
    assert receiver.stats.accepted == 0


async def test_prefix_and_receiver_numbers_select_the_account(receiver: Dc09Receiver) -> None:
    sent = pysia_frame("|Nri1/AT0]" + stamp(), account="5678", prefix="42", receiver="7")
    assert answers(await ask(receiver, sent))[0].token == "ACK"
    message = receiver.get_nowait()
    assert message is not None
    assert message.account.name == "panel-prefixed"


@pytest.mark.parametrize("offset", [-45.0, 25.0, -3600.0])
async def test_timestamp_outside_the_window_gets_nak_with_our_time(
    receiver: Dc09Receiver, offset: float
) -> None:
    sent = pysia_frame("|Nri1/AT0]" + stamp(offset), account="ABCD", key=KEY)
    (reply,) = answers(await ask(receiver, sent))
    assert (reply.id_token, reply.seq) == ("NAK", "0000")
    got = await ask(receiver, sent)
    assert got.split(b'"NAK"')[1].startswith(b"0000R0L0A0[]_")  # DC-09's fixed form
    # the referee refuses it too
    event = SIAEvent.from_line(
        sent[1:-1].decode(), {"ABCD": SIAAccount("ABCD", KEY, allowed_timeband=(40, 20))}
    )
    assert not event.valid_timestamp
    assert receiver.stats.refused["timestamp"] == 2
    assert receiver.stats.accepted == 0


async def test_encrypted_message_without_timestamp_gets_nak(receiver: Dc09Receiver) -> None:
    sent = pysia_frame("|Nri1/AT0]", account="ABCD", key=KEY)
    assert answers(await ask(receiver, sent))[0].token == "NAK"


async def test_inside_the_window_is_accepted(receiver: Dc09Receiver) -> None:
    early = pysia_frame("|Nri1/AT0]" + stamp(-35), account="ABCD", key=KEY, seq="0001")
    late = pysia_frame("|Nri1/AR0]" + stamp(15), account="ABCD", key=KEY, seq="0002")
    replies = answers(await ask(receiver, early, late, expect=2))
    assert [r.token for r in replies] == ["ACK", "ACK"]


async def test_a_replay_is_acknowledged_but_taken_once(receiver: Dc09Receiver) -> None:
    sent = pysia_frame("|Nri1/AR0]" + stamp(), account="ABCD", key=KEY, seq="0005")
    replies = answers(await ask(receiver, sent, sent, sent, expect=3))
    assert [r.token for r in replies] == ["ACK", "ACK", "ACK"]
    assert receiver.stats.accepted == 1
    assert receiver.stats.duplicates == 2
    receiver.get_nowait()
    assert receiver.pending() == 0


async def test_each_cause_is_logged_once(
    receiver: Dc09Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    bad_crc = with_bad_crc(pysia_frame("|Nri1/AT0]"))
    unknown = pysia_frame("|Nri1/AT0]" + stamp(), account="9999")
    with caplog.at_level(logging.WARNING, logger="drivers.sia.receiver"):
        await ask(receiver, *([bad_crc] * 50 + [unknown] * 50), expect=50)
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 2
    assert any("cause=crc" in line for line in refusals)
    assert any("cause=account answer=DUH" in line for line in refusals)
    assert receiver.stats.refused["crc"] == 50
    assert receiver.stats.refused["account"] == 50


async def test_connections_are_capped(receiver: Dc09Receiver) -> None:
    held = [await asyncio.open_connection(*receiver.address) for _ in range(8)]
    try:
        reader, writer = await asyncio.open_connection(*receiver.address)
        async with asyncio.timeout(2):
            assert await reader.read() == b""  # closed at once
        writer.close()
        assert receiver.stats.refused["connections"] == 1
    finally:
        for _, w in held:
            w.close()


async def test_full_queue_gets_no_answer_and_the_panel_retries() -> None:
    settings = ReceiverConfig("127.0.0.1", 0, (PLAIN,), queue_size=1)
    async with Dc09Receiver(settings) as small:
        first = pysia_frame("|Nri1/AT0]" + stamp(), seq="0001")
        second = pysia_frame("|Nri1/AR0]" + stamp(), seq="0002")
        assert [r.seq for r in answers(await ask(small, first, second))] == ["0001"]
        async with asyncio.timeout(5):  # the second frame is handled after the first
            while small.stats.refused["busy"] < 1:
                await asyncio.sleep(0.01)
        small.get_nowait()
        assert [r.seq for r in answers(await ask(small, second))] == ["0002"]


async def test_flood_of_ten_thousand_bad_messages_leaves_the_panel_served(
    receiver: Dc09Receiver,
) -> None:
    """10,000 refused messages on one connection while the genuine panel sends on
    another: the panel's message is acknowledged before the flood has all been
    refused. The flood goes out a hundred messages per turn of the event loop, as a
    network delivers it, so "before" counts turns of the loop, not seconds."""
    kinds = [
        with_bad_crc(pysia_frame("|Nri1/AT0]")),
        pysia_frame("|Nri1/AT0]" + stamp(), account="9999"),
        pysia_frame("|Nri1/AT0]" + stamp(-600), account="ABCD", key=KEY),
        b"garbage garbage garbage\r",
    ]
    reader, writer = await asyncio.open_connection(*receiver.address)

    async def drain() -> None:
        while await reader.read(65536):
            pass

    async def flood() -> None:
        for start in range(0, 10_000, 100):
            writer.write(b"".join(kinds[i % 4] for i in range(start, start + 100)))
            await writer.drain()
            await asyncio.sleep(0)

    def refused_so_far() -> int:
        return sum(receiver.stats.refused.values())

    draining = asyncio.create_task(drain())
    flooding = asyncio.create_task(flood())
    async with asyncio.timeout(10):
        while refused_so_far() == 0:  # the flood is being refused
            await asyncio.sleep(0)
    genuine = pysia_frame("|Nri1/AT0]" + stamp(), account="ABCD", key=KEY, seq="0099")
    (reply,) = answers(await ask(receiver, genuine))
    assert reply.id_token == "*ACK"
    assert refused_so_far() < 10_000  # answered while the flood was still being refused
    await flooding
    await writer.drain()
    writer.write_eof()
    async with asyncio.timeout(30):
        await draining
    writer.close()
    assert receiver.stats.accepted == 1
    refused = receiver.stats.refused
    assert (refused["crc"], refused["account"], refused["timestamp"]) == (2500, 2500, 2500)
    assert refused["framing"] == 2500
