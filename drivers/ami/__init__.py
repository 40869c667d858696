"""The Asterisk Manager Interface (AMI): a narrow, read-only client on asyncio streams
(TCP or TLS) for Asterisk and FreePBX. ``AmiConnection`` is one logged-in session,
``AmiSession`` keeps one PBX's session over time (reconnects with backoff); every
failure is one ``AmiError`` of a class a reader can tell apart. docs/ami.md."""

from drivers.ami.client import LIST_ROWS, READ_ACTIONS, AmiAnswer, AmiConnection, AmiTarget
from drivers.ami.errors import (
    AmiActionError,
    AmiAuthError,
    AmiClosed,
    AmiConnectError,
    AmiError,
    AmiProtocolError,
    AmiTimeout,
    AmiTlsError,
)
from drivers.ami.message import Message
from drivers.ami.session import AmiSession

__all__ = [
    "LIST_ROWS",
    "READ_ACTIONS",
    "AmiActionError",
    "AmiAnswer",
    "AmiAuthError",
    "AmiClosed",
    "AmiConnectError",
    "AmiConnection",
    "AmiError",
    "AmiProtocolError",
    "AmiSession",
    "AmiTarget",
    "AmiTimeout",
    "AmiTlsError",
    "Message",
]
