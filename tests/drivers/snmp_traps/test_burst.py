"""Trap storms: a burst of 500 datagrams, below and above the buffer's bound."""

from __future__ import annotations

import socket
import time

import pytest
from pyasn1.codec.ber import encoder
from pysnmp.proto.api import v2c

from drivers.snmp.traps import TrapReceiver
from tests.drivers.snmp_traps.helpers import COMMUNITY, StartReceiver, next_message, stats_when

pytestmark = pytest.mark.integration

BURST = 500
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
IF_INDEX_1 = "1.3.6.1.2.1.2.2.1.1.1"


def encoded_trap(sequence: int) -> bytes:
    """A v2c linkDown carrying its sequence number, encoded by pysnmp."""
    pdu = v2c.SNMPv2TrapPDU()
    v2c.apiTrapPDU.set_defaults(pdu)
    v2c.apiTrapPDU.set_varbinds(
        pdu,
        [
            (v2c.ObjectIdentifier("1.3.6.1.2.1.1.3.0"), v2c.TimeTicks(sequence)),
            (v2c.ObjectIdentifier("1.3.6.1.6.3.1.1.4.1.0"), v2c.ObjectIdentifier(LINK_DOWN)),
            (v2c.ObjectIdentifier(IF_INDEX_1), v2c.Integer(sequence)),
        ],
    )
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, COMMUNITY)
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def send_burst(receiver: TrapReceiver) -> None:
    """Send the whole burst before the receiver can read any of it (this blocks the loop)."""
    datagrams = [encoded_trap(n) for n in range(BURST)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for datagram in datagrams:
            sock.sendto(datagram, receiver.address)


async def test_burst_below_the_bound_loses_nothing(start_receiver: StartReceiver) -> None:
    receiver = await start_receiver(queue_size=BURST, v3_users=())
    started = time.monotonic()
    cpu_started = time.process_time()
    send_burst(receiver)
    sequence = [(await next_message(receiver, 10.0)).varbinds[0][1] for _ in range(BURST)]
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started

    assert sequence == list(range(BURST)), "lost or reordered traps"
    stats = receiver.stats()
    assert (stats.received, stats.dropped, stats.rejected, stats.socket_drops) == (BURST, 0, 0, 0)
    print(f"\n{BURST} traps in {elapsed * 1000:.0f} ms, {cpu / BURST * 1e6:.0f} us CPU per trap")


async def test_burst_above_the_bound_drops_the_oldest_and_counts(
    start_receiver: StartReceiver,
) -> None:
    receiver = await start_receiver(queue_size=100, v3_users=())
    send_burst(receiver)
    stats = await stats_when(receiver, lambda s: s.received == BURST, within=10.0)
    assert (stats.dropped, stats.socket_drops, receiver.pending) == (BURST - 100, 0, 100)
    # The newest 100 are kept, oldest first.
    kept = [(await next_message(receiver)).varbinds[0][1] for _ in range(100)]
    assert kept == list(range(BURST - 100, BURST))
    assert receiver.pending == 0


def large_trap(sequence: int, size: int) -> bytes:
    """A v2c linkDown with an OCTET STRING of ``size`` bytes."""
    pdu = v2c.SNMPv2TrapPDU()
    v2c.apiTrapPDU.set_defaults(pdu)
    v2c.apiTrapPDU.set_varbinds(
        pdu,
        [
            (v2c.ObjectIdentifier("1.3.6.1.2.1.1.3.0"), v2c.TimeTicks(sequence)),
            (v2c.ObjectIdentifier("1.3.6.1.6.3.1.1.4.1.0"), v2c.ObjectIdentifier(LINK_DOWN)),
            (v2c.ObjectIdentifier(IF_INDEX_1), v2c.OctetString(b"x" * size)),
        ],
    )
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, COMMUNITY)
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


async def test_large_traps_are_buffered_within_a_byte_bound(
    start_receiver: StartReceiver,
) -> None:
    """Issue 13: 10,000 datagrams of 64 kB would hold 640 MB; the buffer counts bytes."""
    receiver = await start_receiver(queue_bytes=1024 * 1024, v3_users=())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
        for n in range(100):
            sock.sendto(large_trap(n, 30_000), receiver.address)
    stats = await stats_when(receiver, lambda s: s.received + (s.socket_drops or 0) >= 100)
    assert receiver.pending_bytes <= 1024 * 1024
    assert receiver.pending <= 35
    assert stats.dropped >= 100 - 35 - (stats.socket_drops or 0)
    # The newest are kept, in order.
    kept = [(await next_message(receiver)).uptime for _ in range(receiver.pending)]
    uptimes = [u for u in kept if u is not None]
    assert uptimes == kept
    assert uptimes == sorted(uptimes)
    assert receiver.pending_bytes == 0
