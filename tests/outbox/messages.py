"""Message factories for the outbox tests: each payload carries its number."""

from __future__ import annotations

from gateway.outbox import MessageClass, OutboxMessage

TICKETS_TOPIC = "lvgw/v1/site-001/tickets"


def ticket(n: int, size: int = 0) -> OutboxMessage:
    payload = f'{{"n": {n}}}'.encode().ljust(size, b" ")
    return OutboxMessage(TICKETS_TOPIC, payload, message_class=MessageClass.TICKET)


def metric(n: int, size: int = 0) -> OutboxMessage:
    payload = f"health,device=d{n} v={n}i".encode().ljust(size, b" ")
    return OutboxMessage("metrics", payload, qos=0, message_class=MessageClass.METRIC)


def control(n: int) -> OutboxMessage:
    payload = f'{{"n": {n}}}'.encode()
    topic = "lvgw/v1/site-001/cmd-reply/maintenance"
    return OutboxMessage(topic, payload, message_class=MessageClass.CONTROL)


def number(payload: bytes) -> int:
    """The number a factory put into ``payload``."""
    text = payload.decode().strip()
    if text.startswith("{"):
        return int(text.split(":")[1].rstrip("}"))
    return int(text.rsplit("=", 1)[1].rstrip("i"))
