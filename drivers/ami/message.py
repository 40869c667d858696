"""The Asterisk Manager Interface's line protocol: messages of ``Key: Value`` lines.

As Asterisk writes it (main/manager.c of Asterisk 22): after the connection the
server sends one banner line, ``Asterisk Call Manager/<AMI version>``; then every
message is lines ending in CRLF (``Key: Value``), closed by an empty line. A client
sends actions (``Action: <name>`` and its headers), the server answers each with a
``Response: Success|Error`` that repeats the action's ``ActionID``, and sends events
(``Event: <name>``) between them. Header names compare case-insensitively, as
``astman_get_header`` compares them.

Everything read is bounded: a line longer than ``line_bytes`` or a message of more
than ``message_bytes`` ends the connection (what follows cannot be trusted to start a
message), a line that is no ``Key: Value`` is skipped and counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from drivers.ami.errors import AmiClosed, AmiProtocolError

BANNER_PREFIX = "Asterisk Call Manager/"
MAX_HEADERS = 512  # headers in one message; Asterisk's own parser takes at most 128 in


@dataclass(frozen=True, slots=True)
class Message:
    """One AMI message: its headers in order (a name may repeat)."""

    headers: tuple[tuple[str, str], ...]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first header called ``name`` (any case), or ``default``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return default

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def as_dict(self) -> dict[str, str]:
        """The headers as a mapping (the first of a repeated name wins)."""
        out: dict[str, str] = {}
        for key, value in self.headers:
            out.setdefault(key, value)
        return out


def encode_action(name: str, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> bytes:
    """``Action: name`` and ``headers`` as the bytes to send. A value holding a line
    break would start another header: refused (the gateway's own values never do)."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    lines = [f"Action: {name}"]
    for key, value in pairs:
        if any(c in key + value for c in "\r\n") or ":" in key:
            raise ValueError(f"header {key!r} cannot be sent: it holds a line break or colon")
        lines.append(f"{key}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


class MessageReader:
    """Reads banner and messages from a stream, within the bounds."""

    def __init__(self, stream: asyncio.StreamReader, message_bytes: int) -> None:
        self.stream = stream
        self.message_bytes = message_bytes
        self.skipped_lines = 0  # lines that were no "Key: Value", since the connection

    async def _line(self) -> bytes | None:
        """One line without its end; None at the end of the stream."""
        try:
            line = await self.stream.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise AmiClosed("the connection ended inside a line") from None
            return None
        except asyncio.LimitOverrunError:
            raise AmiProtocolError("a line longer than the line limit") from None
        except OSError as exc:  # reset, or a TLS record that does not decrypt
            raise AmiClosed(f"connection lost: {exc}") from exc
        return line.rstrip(b"\r\n")

    async def banner(self) -> str:
        """The server's first line: ``Asterisk Call Manager/x.y.z``; its version."""
        line = await self._line()
        if line is None:
            raise AmiClosed("the connection ended before the banner")
        text = line.decode("utf-8", "replace")
        if not text.startswith(BANNER_PREFIX):
            raise AmiProtocolError(f"not an AMI banner: {text[:80]!r}")
        return text[len(BANNER_PREFIX) :]

    async def message(self) -> Message | None:
        """The next message with at least one header; None at the end of the stream.

        Empty lines between messages are skipped (Asterisk sends some messages with a
        stray line break before their closing empty line)."""
        headers: list[tuple[str, str]] = []
        size = 0
        while True:
            line = await self._line()
            if line is None:
                if headers:
                    raise AmiClosed("the connection ended inside a message")
                return None
            if not line:
                if headers:
                    return Message(tuple(headers))
                continue
            size += len(line) + 2
            if size > self.message_bytes or len(headers) >= MAX_HEADERS:
                raise AmiProtocolError(f"a message larger than {self.message_bytes} bytes")
            key, sep, value = line.decode("utf-8", "replace").partition(":")
            if not sep or not key or key != key.strip() or " " in key:
                self.skipped_lines += 1
                continue
            headers.append((key, value.removeprefix(" ")))
