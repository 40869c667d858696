"""The durable outbox: messages stored in SQLite until the uplink has delivered them.

See docs/outbox.md for the guarantees, the delivery protocol and the budgets.
"""

from gateway.outbox.errors import (
    OutboxClosedError,
    OutboxCorruptError,
    OutboxError,
    OutboxFullError,
)
from gateway.outbox.messages import (
    DEFAULT_BUDGETS,
    PRIORITY,
    Backlog,
    ClassBudget,
    DeliveryFailure,
    Dropped,
    MessageClass,
    OutboxMessage,
    OutboxStats,
    StoredMessage,
)
from gateway.outbox.outbox import Outbox

__all__ = [
    "DEFAULT_BUDGETS",
    "PRIORITY",
    "Backlog",
    "ClassBudget",
    "DeliveryFailure",
    "Dropped",
    "MessageClass",
    "Outbox",
    "OutboxClosedError",
    "OutboxCorruptError",
    "OutboxError",
    "OutboxFullError",
    "OutboxMessage",
    "OutboxStats",
    "StoredMessage",
]
