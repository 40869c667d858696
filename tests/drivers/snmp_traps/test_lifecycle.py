"""Start, close and failure to start: sockets and tasks are released, errors are clear."""

from __future__ import annotations

import asyncio
import socket

import pytest

from drivers.snmp.traps import (
    TrapReceiver,
    TrapReceiverClosed,
    TrapReceiverConfig,
    TrapReceiverError,
)
from tests.drivers.snmp_traps.helpers import (
    COMMUNITY,
    NetSnmp,
    StartReceiver,
    next_message,
    stats_when,
    target,
)
from tests.realservers import free_port, snmp_answers

pytestmark = pytest.mark.integration


def udp_port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def send_trap(netsnmp: NetSnmp, receiver: TrapReceiver, trap_oid: str) -> None:
    sent = await netsnmp.run(
        "snmptrap", "-v", "2c", "-c", COMMUNITY, target(receiver), "", trap_oid
    )
    assert sent.returncode == 0, sent.stderr


async def test_listens_on_the_configured_port_and_releases_it_on_close(
    netsnmp: NetSnmp,
) -> None:
    port = free_port()
    settings = TrapReceiverConfig(host="127.0.0.1", port=port, communities=(COMMUNITY,))
    async with TrapReceiver(settings) as receiver:
        assert receiver.address == ("127.0.0.1", port)
        assert not udp_port_is_free(port)
        await send_trap(netsnmp, receiver, "1.3.6.1.4.1.99.0.1")
        assert (await next_message(receiver)).trap_oid == "1.3.6.1.4.1.99.0.1"
    assert udp_port_is_free(port)
    # The same port can serve a new receiver at once.
    async with TrapReceiver(settings) as again:
        await send_trap(netsnmp, again, "1.3.6.1.4.1.99.0.2")
        assert (await next_message(again)).trap_oid == "1.3.6.1.4.1.99.0.2"


async def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        receiver = TrapReceiver(TrapReceiverConfig(host="127.0.0.1", port=port))
        with pytest.raises(
            TrapReceiverError, match=rf"^cannot listen on 127\.0\.0\.1:{port}: "
        ) as e:
            await receiver.start()
        assert "in use" in str(e.value)
        assert isinstance(e.value.__cause__, OSError)
        await receiver.close()


async def test_close_wakes_a_waiting_consumer_and_ends_iteration(
    start_receiver: StartReceiver, netsnmp: NetSnmp
) -> None:
    receiver = await start_receiver(v3_users=())
    waiting = asyncio.create_task(receiver.get(), name="waiting-consumer")
    await asyncio.sleep(0)  # let it start waiting
    await receiver.close()
    with pytest.raises(TrapReceiverClosed):
        await waiting

    # Messages buffered before close are still handed out, then iteration ends.
    second = await start_receiver(v3_users=())
    await send_trap(netsnmp, second, "1.3.6.1.4.1.99.0.3")
    await stats_when(second, lambda s: s.received == 1)
    await second.close()
    assert [m.trap_oid async for m in second] == ["1.3.6.1.4.1.99.0.3"]
    with pytest.raises(TrapReceiverClosed):
        await second.get()


async def test_a_receiver_starts_only_once(start_receiver: StartReceiver) -> None:
    receiver = await start_receiver(v3_users=())
    with pytest.raises(TrapReceiverError, match="starts once"):
        await receiver.start()
    await receiver.close()
    with pytest.raises(TrapReceiverError, match="starts once"):
        await receiver.start()


async def test_garbage_and_requests_are_counted_and_do_not_stop_it(
    start_receiver: StartReceiver, netsnmp: NetSnmp
) -> None:
    receiver = await start_receiver(v3_users=())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\x30\x03\x02\x01", receiver.address)  # truncated BER
        sock.sendto(b"not snmp at all", receiver.address)
    # A GET sent to the trap port is not a notification.
    snmp_answers(*receiver.address)
    stats = await stats_when(receiver, lambda s: s.rejected == 3)
    assert stats.rejected_by_reason["parse_error"] == 2
    assert stats.rejected_by_reason["not_a_notification"] == 1
    await send_trap(netsnmp, receiver, "1.3.6.1.4.1.99.0.4")
    assert (await next_message(receiver)).trap_oid == "1.3.6.1.4.1.99.0.4"


async def test_rejections_are_logged_once_per_sender_and_reason(
    start_receiver: StartReceiver, netsnmp: NetSnmp, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = await start_receiver(v3_users=())
    for _ in range(3):
        await netsnmp.run("snmptrap", "-v", "2c", "-c", "guess", target(receiver), "", "1.3.6.1")
    await stats_when(receiver, lambda s: s.rejected == 3)
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "127.0.0.1" in warnings[0].getMessage()
    assert "bad_community" in warnings[0].getMessage()
    assert "guess" not in caplog.text


@pytest.mark.parametrize(
    ("listen", "destination", "sender"),
    [
        ("::1", "udp6:[::1]", "::1"),
        # A dual-stack socket reports an IPv4 sender as its IPv4 address, not ::ffff:...
        ("::", "udp:127.0.0.1", "127.0.0.1"),
    ],
)
async def test_ipv6_listeners(
    start_receiver: StartReceiver, netsnmp: NetSnmp, listen: str, destination: str, sender: str
) -> None:
    receiver = await start_receiver(host=listen, v3_users=())
    port = receiver.address[1]
    sent = await netsnmp.run(
        "snmptrap", "-v", "2c", "-c", COMMUNITY, f"{destination}:{port}", "", "1.3.6.1.4.1.99.0.6"
    )
    assert sent.returncode == 0, sent.stderr
    message = await next_message(receiver)
    assert (message.sender_host, message.trap_oid) == (sender, "1.3.6.1.4.1.99.0.6")
