"""Structured logs: one line per event, ``key=value`` pairs after a short message.

State changes (device down, recovered, ticket opened) are logged at info or
warning; steady state (every poll) only at debug.

What outsiders send (a trap's OID, an MQTT message, a device's error text) ends up in
log lines, so the handler bounds both: a line is cut at ``limits.log_line_chars``, and
each kind of line (its logger and message template) is written at most
``limits.log_lines_per_minute`` times a minute; the next one written after a pause
says how many were held back. A flood costs a few lines, not the disk.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

WINDOW_S = 60.0
LINE_CHARS = 2000  # the site file's limits.log_line_chars by default
LINES_PER_MINUTE = 20  # ... and limits.log_lines_per_minute
MAX_CAUSES = 1024  # kinds of line tracked at once (templates come from the code)
TRACEBACK_LINES = 60  # of a logged exception, the innermost are kept


@dataclass(slots=True)
class _Cause:
    started: float
    written: int = 0
    held: int = 0


class RateLimit(logging.Filter):
    """At most ``per_minute`` lines of each kind (logger, message template) a minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.per_minute = per_minute
        self.clock = clock
        self.held_total = 0
        self._causes: OrderedDict[tuple[str, str], _Cause] = OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg)[:200])
        now = self.clock()
        cause = self._causes.get(key)
        if cause is None or now - cause.started >= WINDOW_S:
            if cause is not None and cause.held:
                record.lvgw_note = f" ({cause.held} more like this were held back)"
            cause = self._causes[key] = _Cause(now)
            self._causes.move_to_end(key)
            if len(self._causes) > MAX_CAUSES:
                self._causes.popitem(last=False)
        cause.written += 1
        if cause.written < self.per_minute:
            return True
        if cause.written == self.per_minute:
            record.lvgw_note = getattr(record, "lvgw_note", "") + (
                f" (lines like this are suppressed for up to {WINDOW_S:g} s)"
            )
            return True
        cause.held += 1
        self.held_total += 1
        return False


class KeyValueFormatter(logging.Formatter):
    def __init__(self, max_chars: int = LINE_CHARS) -> None:
        super().__init__()
        self.max_chars = max_chars

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        note = getattr(record, "lvgw_note", "")
        line = (
            f"ts={ts}.{int(record.msecs):03d}Z level={record.levelname.lower()} "
            f"logger={record.name} msg={record.getMessage()}"
        )
        line = _cut(line, self.max_chars - len(note)) + note
        if record.exc_info:
            trace = self.formatException(record.exc_info).splitlines()
            if len(trace) > TRACEBACK_LINES:
                trace = [trace[0], "  ...", *trace[-(TRACEBACK_LINES - 2) :]]
            line += "\n" + "\n".join(_cut(text, self.max_chars) for text in trace)
        return line


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = f"... [{len(text) - limit} more chars]"
    return text[: max(0, limit - len(cut))] + cut


def setup(
    level: str = "info",
    line_chars: int = LINE_CHARS,
    lines_per_minute: int = LINES_PER_MINUTE,
    stream: TextIO | None = None,
) -> None:
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(KeyValueFormatter(line_chars))
    handler.addFilter(RateLimit(lines_per_minute))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries speak only when something is wrong.
    for noisy in ("pysnmp", "aiomqtt", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # pymodbus logs every timeout at ERROR with a frame dump; the poller already
    # reports a device going down (once) and recovering.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
