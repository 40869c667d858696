"""The center's MQTT session: MQTT v5, a persistent session, manual acknowledgements.

The broker keeps the session (``clean_start`` false, a session expiry interval) so
QoS 1 messages wait there while the center is away. aiomqtt 2.x has no manual
acknowledgement of its own; paho-mqtt (which it wraps) has: with ``manual_ack_set``
on, a QoS 1 message is only PUBACKed when `acknowledge` is called, which the center
does once the message is durable in the ledger. A message never acknowledged is sent
again by the broker on the next connection of the session.
"""

from __future__ import annotations

import secrets
import ssl

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from center.config import Broker
from gateway.config.types import read_secret_file


def tls_context(broker: Broker) -> ssl.SSLContext | None:
    if broker.tls is None:
        return None
    tls = broker.tls
    context = ssl.create_default_context(cafile=str(tls.ca) if tls.ca else None)
    if tls.cert and tls.key:
        context.load_cert_chain(str(tls.cert), str(tls.key))
    return context


def client(broker: Broker) -> aiomqtt.Client:
    """A client for one connection of the center's session (not yet connected)."""
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = int(broker.session_expiry)
    password = None
    if broker.password_file is not None:
        password = read_secret_file(broker.password_file).reveal()
    mqtt = aiomqtt.Client(
        broker.host,
        broker.port,
        identifier=broker.client_id,
        username=broker.username,
        password=password,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=False,
        properties=properties,
        tls_context=tls_context(broker),
        keepalive=30,
    )
    mqtt._client.manual_ack_set(True)
    return mqtt


def acknowledge(mqtt: aiomqtt.Client, message: aiomqtt.Message) -> None:
    """PUBACK ``message`` now (nothing to send for QoS 0)."""
    if message.qos > 0:
        mqtt._client.ack(message.mid, message.qos)


def transient_client(broker: Broker, purpose: str) -> aiomqtt.Client:
    """A short connection of its own (a clean session, a random client id), for what
    the center sends to a site: never the persistent session's id, which would take
    the session away from the running worker."""
    password = None
    if broker.password_file is not None:
        password = read_secret_file(broker.password_file).reveal()
    return aiomqtt.Client(
        broker.host,
        broker.port,
        identifier=f"{broker.client_id}-{purpose}-{secrets.token_hex(4)}",
        username=broker.username,
        password=password,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=True,
        tls_context=tls_context(broker),
        timeout=10,
    )
