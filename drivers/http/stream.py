"""The parts of a multipart event stream (Hikvision's alertStream, Dahua's eventManager
attach), read with bounded memory.

Both vendors send an endless ``multipart/*`` body: a boundary line, part headers, a
blank line, the part (``Content-Length`` bytes when the header is there, else lines up
to the next boundary). A line longer than ``max_line`` or a part larger than
``max_part`` is refused (``HttpContentError``): the stream is dropped and reconnected,
never grown. A part with a ``Content-Length`` over ``max_part`` (a picture some
firmware attaches) is skipped without being held.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from drivers.http.client import HttpContentError

_BOUNDARY = re.compile(r'boundary="?([^";,\s]+)"?', re.IGNORECASE)


def boundary_of(content_type: str) -> str:
    """The boundary of a ``multipart/*`` Content-Type, or HttpContentError."""
    if not content_type.lower().startswith("multipart/"):
        raise HttpContentError(f"not a multipart stream: {content_type[:80]!r}")
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise HttpContentError("multipart stream without a boundary")
    return match.group(1)


class StreamBuffer:
    """Lines and byte runs from an async iterator of chunks, holding at most one
    line (or one bounded run) at a time."""

    def __init__(self, chunks: AsyncIterator[bytes], max_line: int) -> None:
        self.chunks = chunks
        self.max_line = max_line
        self.buffer = bytearray()
        self.ended = False

    async def _more(self) -> bool:
        try:
            chunk = await anext(self.chunks)
        except StopAsyncIteration:
            self.ended = True
            return False
        self.buffer += chunk
        return True

    async def readline(self) -> bytes | None:
        """One line without its CR LF; None at the end of the stream."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 1]
                return line.removesuffix(b"\r")
            if len(self.buffer) > self.max_line:
                raise HttpContentError(f"a line of more than {self.max_line} bytes in the stream")
            if not await self._more():
                if not self.buffer:
                    return None
                line = bytes(self.buffer)
                self.buffer.clear()
                return line

    async def read(self, size: int, keep: bool) -> bytes:
        """The next ``size`` bytes (discarded as they come when not ``keep``)."""
        out = bytearray()
        left = size
        while left > 0:
            if not self.buffer and not await self._more():
                raise HttpContentError("the stream ended inside a part")
            take = min(left, len(self.buffer))
            if keep:
                out += self.buffer[:take]
            del self.buffer[:take]
            left -= take
        return bytes(out)


@dataclass(frozen=True, slots=True)
class Part:
    content_type: str
    body: bytes


async def multipart_parts(
    chunks: AsyncIterator[bytes], boundary: str, max_line: int, max_part: int
) -> AsyncIterator[Part]:
    """Every part of the stream whose body fits ``max_part`` bytes, in order."""
    stream = StreamBuffer(chunks, max_line)
    delimiter = b"--" + boundary.encode("latin-1")
    line = await stream.readline()
    while line is not None:
        if line.rstrip() == delimiter + b"--":
            return  # the closing delimiter
        if line.rstrip() != delimiter:
            line = await stream.readline()  # preamble, or blank lines between parts
            continue
        headers: dict[str, str] = {}
        while (header := await stream.readline()) not in (None, b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = headers.get("content-length", "")
        if length.isdigit():
            size = int(length)
            body = await stream.read(size, keep=size <= max_part)
            if size <= max_part:
                yield Part(headers.get("content-type", ""), body)
            line = await stream.readline()
            continue
        body_lines: list[bytes] = []
        held = 0
        while (line := await stream.readline()) is not None and line.rstrip() not in (
            delimiter,
            delimiter + b"--",
        ):
            held += len(line) + 2
            if held > max_part:
                raise HttpContentError(f"a part of more than {max_part} bytes in the stream")
            body_lines.append(line)
        body = b"\r\n".join(body_lines).strip()
        if body:
            yield Part(headers.get("content-type", ""), body)
