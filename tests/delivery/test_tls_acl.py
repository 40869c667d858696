"""Acceptance: mutual TLS, and a topic the broker's ACL denies.

One mosquitto with three listeners (tests/delivery/brokers.py): anonymous (the test's
observer), TLS requiring a client certificate, and user/password with an ACL file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from drivers.tasks import stop_task
from gateway.config.load import load_config
from gateway.model import TicketEvent
from gateway.outbox import MessageClass
from gateway.poller import PollResult
from gateway.uplink.client import AckingClient
from tests.delivery.brokers import SecureMosquitto
from tests.delivery.certs import CertAuthority
from tests.delivery.gateway import Gateway
from tests.delivery.site import write_site
from tests.realservers import running

pytestmark = pytest.mark.integration

# site-tls (mutual TLS, the certificate's CN is the user) may use all its topics;
# site-acl (password) may do everything but publish tickets.
ACL = """\
user site-tls
topic readwrite lvgw/v1/site-tls/#

user site-acl
topic write lvgw/v1/site-acl/status
topic write lvgw/v1/site-acl/acks-reply
topic write lvgw/v1/site-acl/cmd-reply/+
topic read lvgw/v1/site-acl/acks
topic read lvgw/v1/site-acl/cmd/+
"""


@pytest.fixture
def authority(tmp_path: Path) -> CertAuthority:
    return CertAuthority(tmp_path / "pki")


@pytest.fixture
def secure_broker(tmp_path: Path, authority: CertAuthority) -> Iterator[SecureMosquitto]:
    broker = SecureMosquitto(tmp_path / "broker", authority)
    broker.add_user("site-acl", "acl-secret")
    broker.acl.write_text(ACL)
    with running(broker):
        yield broker


class Observer:
    """Everything published on the broker, seen from its anonymous listener."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.arrived = asyncio.Condition()

    async def listen(self) -> None:
        async for message in self.client.messages:
            async with self.arrived:
                self.messages.append((str(message.topic), json.loads(bytes(message.payload))))
                self.arrived.notify_all()

    def on(self, suffix: str) -> list[dict[str, Any]]:
        return [body for topic, body in self.messages if topic.endswith("/" + suffix)]

    async def wait_for(self, predicate: Any, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout), self.arrived:
            await self.arrived.wait_for(predicate)


@pytest.fixture
async def observer(secure_broker: SecureMosquitto) -> AsyncIterator[Observer]:
    async with aiomqtt.Client(secure_broker.host, secure_broker.port) as client:
        await client.subscribe("lvgw/#", qos=1)
        seen = Observer(client)
        task = asyncio.create_task(seen.listen(), name="observer")
        yield seen
        await stop_task(task)
        assert task.cancelled(), task.exception()


async def raise_incidents(gateway: Gateway, devices: int) -> list[TicketEvent]:
    """Three failed polls of each device: one ``open`` per device."""
    events: list[TicketEvent] = []
    for _ in range(3):
        for i in range(devices):
            result = PollResult(f"sw-{i:03d}", datetime.now(UTC), False, ())
            events += (await gateway.pipeline.handle(result)).events
    return events


async def test_mutual_tls_connects_with_its_certificate_and_delivers(
    tmp_path: Path, secure_broker: SecureMosquitto, authority: CertAuthority, observer: Observer
) -> None:
    client = authority.issue("site-tls", server=False)
    mqtt = (
        f"{{host: 127.0.0.1, port: {secure_broker.tls_port},"
        f" tls: {{ca: {authority.ca.cert}, cert: {client.cert}, key: {client.key}}}}}"
    )
    config = load_config(write_site(tmp_path, "site-tls", mqtt, devices=2))
    async with Gateway(config) as gateway:
        await asyncio.wait_for(gateway.uplink.connected.wait(), 10)
        events = await raise_incidents(gateway, 2)
        await observer.wait_for(lambda: len(observer.on("tickets")) == 2)
    assert [t["event_id"] for t in observer.on("tickets")] == [e.event_id for e in events]
    assert observer.on("status")[0]["state"] == "online"


async def test_without_a_client_certificate_it_says_why_and_keeps_trying(
    tmp_path: Path,
    secure_broker: SecureMosquitto,
    authority: CertAuthority,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mqtt = f"{{host: 127.0.0.1, port: {secure_broker.tls_port}, tls: {{ca: {authority.ca.cert}}}}}"
    config = load_config(write_site(tmp_path, "site-tls", mqtt, devices=1))
    caplog.set_level(logging.WARNING, "lvgw.uplink")

    def refusals() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "lvgw.uplink"]

    async with Gateway(config) as gateway:
        async with asyncio.timeout(10):
            while len(refusals()) < 3:  # retried, and said so each time
                await asyncio.sleep(0.05)
        assert gateway.running
        assert not gateway.uplink.stats.connected
    assert all("requires a client certificate" in line for line in refusals()), refusals()
    assert all("CERTIFICATE_REQUIRED" in line for line in refusals())


async def test_a_ticket_the_acl_denies_is_an_error_until_the_acl_allows_it(
    tmp_path: Path, secure_broker: SecureMosquitto, observer: Observer
) -> None:
    password = tmp_path / "mqtt-password"
    password.write_text("acl-secret\n")
    password.chmod(0o600)
    mqtt = (
        f"{{host: 127.0.0.1, port: {secure_broker.acl_port}, username: site-acl,"
        f" password_file: {password}}}"
    )
    config = load_config(write_site(tmp_path, "site-acl", mqtt, devices=3))
    async with Gateway(config) as gateway:
        await asyncio.wait_for(gateway.uplink.connected.wait(), 10)
        events = await raise_incidents(gateway, 3)

        # Refused (PUBACK 0x87): counted, kept, and shown in the retained status.
        await observer.wait_for(lambda: any(s.get("failing") for s in observer.on("status")))
        status = next(s for s in observer.on("status") if s.get("failing"))
        assert status["state"] == "online"
        assert status["failing"] == 1  # the head of the queue; the others wait behind it
        assert status["refused"] >= 1
        assert "not authorized (0x87)" in status["last_refusal"]
        assert "lvgw/v1/site-acl/tickets" in status["last_refusal"]
        assert gateway.uplink.stats.refused >= 1
        assert gateway.uplink.stats.delivered == 0
        stats = await gateway.outbox.stats()
        assert stats.backlog[MessageClass.TICKET].messages == 3
        assert stats.last_failure is not None
        assert stats.last_failure.attempts >= 1
        assert "not authorized" in stats.last_failure.error
        assert observer.on("tickets") == []

        # The operator fixes the ACL; mosquitto re-reads it on SIGHUP.
        secure_broker.acl.write_text(ACL + "topic write lvgw/v1/site-acl/tickets\n")
        secure_broker.reload()
        await observer.wait_for(lambda: len(observer.on("tickets")) == 3, 15)
        await observer.wait_for(lambda: observer.on("status")[-1].get("failing") == 0)
        async with asyncio.timeout(10):  # the broker forwards before its PUBACK arrives
            while await gateway.backlog():
                await asyncio.sleep(0.02)
        assert gateway.uplink.stats.delivered == 3
    assert [t["event_id"] for t in observer.on("tickets")] == [e.event_id for e in events]


def fleet_acl() -> str:
    """The broker ACL for a fleet of sites, exactly as docs/mqtt.md gives it."""
    text = Path("docs/mqtt.md").read_text()
    start = text.index("# lvgw fleet ACL")
    return text[start : text.index("```", start)]


async def publish_code(client: AckingClient, topic: str) -> int:
    return await client.publish_acked(topic, b'{"probe": true}', qos=1)


async def test_the_documented_fleet_acl_keeps_each_site_to_its_own_topics(
    tmp_path: Path, authority: CertAuthority
) -> None:
    broker = SecureMosquitto(tmp_path / "fleet", authority)
    for user in ("site-a", "site-b", "service-center"):
        broker.add_user(user, f"{user}-secret")
    broker.acl.write_text(fleet_acl())
    site_c = authority.issue("site-c", server=False)  # mutual TLS: the CN is the user
    tls = ssl.create_default_context(cafile=str(authority.ca.cert))
    tls.load_cert_chain(str(site_c.cert), str(site_c.key))

    def login(user: str) -> AckingClient:
        return AckingClient(
            "127.0.0.1", broker.acl_port, username=user, password=f"{user}-secret",
            identifier=user, protocol=aiomqtt.ProtocolVersion.V5,
        )  # fmt: skip

    with running(broker):
        async with (
            login("site-a") as site_a,
            login("site-b") as site_b,
            login("service-center") as center,
            AckingClient(
                "127.0.0.1", broker.tls_port, identifier="site-c", tls_context=tls,
                protocol=aiomqtt.ProtocolVersion.V5,
            ) as site_c_client,
        ):  # fmt: skip
            await center.subscribe("lvgw/v1/+/tickets", qos=1)
            await site_a.subscribe("lvgw/v1/site-a/acks", qos=1)
            # mosquitto grants the subscription but never delivers what the ACL denies.
            await site_b.subscribe("lvgw/v1/site-a/acks", qos=1)
            await site_b.subscribe("lvgw/v1/site-b/acks", qos=1)

            for topic in ("tickets", "status", "acks-reply", "cmd-reply/maintenance"):
                assert await publish_code(site_a, f"lvgw/v1/site-a/{topic}") < 0x80, topic
            assert await publish_code(site_c_client, "lvgw/v1/site-c/tickets") < 0x80
            # Nobody writes another site's tickets, nor its own acks or commands.
            assert await publish_code(site_a, "lvgw/v1/site-b/tickets") == 0x87
            assert await publish_code(site_c_client, "lvgw/v1/site-a/tickets") == 0x87
            assert await publish_code(site_a, "lvgw/v1/site-a/acks") == 0x87
            assert await publish_code(site_a, "lvgw/v1/site-a/cmd/maintenance") == 0x87
            assert await publish_code(center, "lvgw/v1/site-a/tickets") == 0x87
            # The service center reads every site and acknowledges.
            assert await publish_code(center, "lvgw/v1/site-a/acks") < 0x80
            assert await publish_code(center, "lvgw/v1/site-b/cmd/maintenance") < 0x80
            got = [await anext(aiter(center.messages)) for _ in range(2)]
            assert sorted(str(m.topic) for m in got) == [
                "lvgw/v1/site-a/tickets", "lvgw/v1/site-c/tickets"
            ]  # fmt: skip
            ack = await asyncio.wait_for(anext(aiter(site_a.messages)), 5)
            assert str(ack.topic) == "lvgw/v1/site-a/acks"
            # site-b does not see site-a's acknowledgement: its first message is its own,
            # published after site-a's.
            assert await publish_code(center, "lvgw/v1/site-b/acks") < 0x80
            first = await asyncio.wait_for(anext(aiter(site_b.messages)), 5)
            assert str(first.topic) == "lvgw/v1/site-b/acks"
