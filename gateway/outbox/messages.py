"""What the outbox stores and reports: messages, their classes, budgets and statistics.

The outbox knows nothing of MQTT libraries or of tickets: a message is a topic, payload
bytes, a QoS, a retain flag and a class that decides its priority and whether it may be
dropped.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class MessageClass(enum.StrEnum):
    """Why a message is sent; decides its delivery priority and its drop policy."""

    TICKET = "ticket"  # ticket events: never dropped, durable before put() returns
    CONTROL = "control"  # status and command replies: small, may be dropped oldest first
    METRIC = "metric"  # health metrics: bounded by a budget, dropped oldest first


# Delivery priority, highest first: `pending()` hands out classes in this order.
PRIORITY: tuple[MessageClass, ...] = (
    MessageClass.TICKET,
    MessageClass.CONTROL,
    MessageClass.METRIC,
)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message to deliver later."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    message_class: MessageClass = MessageClass.TICKET

    def __post_init__(self) -> None:
        if not self.topic:
            raise ValueError("an outbox message needs a topic")
        if self.qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, not {self.qos!r}")
        if not isinstance(self.payload, bytes):
            raise TypeError(f"payload must be bytes, not {type(self.payload).__name__}")

    @property
    def size(self) -> int:
        """What the message counts against a budget: payload plus topic, in bytes."""
        return len(self.payload) + len(self.topic.encode())


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message waiting in the outbox, as `pending()` hands it out."""

    id: int  # increases monotonically over the life of the file, never reused
    message_class: MessageClass
    topic: str
    payload: bytes
    qos: int
    retain: bool
    created_at: float  # Unix time when it was stored
    attempts: int  # failed delivery attempts recorded by `fail()`
    last_error: str | None


@dataclass(frozen=True, slots=True)
class ClassBudget:
    """How much of a droppable class the outbox keeps; beyond it the oldest are dropped."""

    max_messages: int | None = None
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_messages", "max_bytes"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")

    def exceeded(self, messages: int, size: int) -> bool:
        return (self.max_messages is not None and messages > self.max_messages) or (
            self.max_bytes is not None and size > self.max_bytes
        )


MIB = 1024 * 1024

# Defaults sized for an SD card: metrics of a 1,000-device site (one ~1 KB message per
# device poll every 30 s) fill 128 MiB in about 70 minutes; a 100-device site in 12 h.
DEFAULT_BUDGETS: Mapping[MessageClass, ClassBudget] = {
    MessageClass.METRIC: ClassBudget(max_messages=1_000_000, max_bytes=128 * MIB),
    MessageClass.CONTROL: ClassBudget(max_messages=1_000, max_bytes=1 * MIB),
}


@dataclass(frozen=True, slots=True)
class Backlog:
    """What is waiting in one class."""

    messages: int
    bytes: int
    oldest_age_s: float | None  # None when nothing is waiting


@dataclass(frozen=True, slots=True)
class Dropped:
    """What one class has lost to its budget or to a full disk, since the file was created."""

    messages: int
    bytes: int


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """The most recent refusal recorded by `fail()` for a message still waiting."""

    id: int
    message_class: MessageClass
    topic: str
    attempts: int
    error: str
    failed_at: float  # Unix time


@dataclass(frozen=True, slots=True)
class OutboxStats:
    backlog: Mapping[MessageClass, Backlog]
    dropped: Mapping[MessageClass, Dropped]
    failing: int  # waiting messages with at least one failed attempt
    last_failure: DeliveryFailure | None
    disk_bytes: int  # database file plus its write-ahead log
