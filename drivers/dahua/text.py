"""The Dahua HTTP API's answers: one ``key=value`` per line (CR LF).

A key is a dotted path with 0-based indexes (``list.info[0].Detail[1].TotalBytes``,
``table.RecordMode[3].Mode``); the value is the rest of the line. A request the
device cannot do is answered with ``Error`` and a reason on the next line, in place
of the document (often with status 200); an HTML page is a web server's error, not
the API's. Both, and anything that is not ``key=value`` text, are refused here, so a
reader tells a bad answer from an empty one.
"""

from __future__ import annotations

from drivers.http.client import HttpContentError, HttpErrorAnswer

MAX_KEY = 512  # characters of a key: Dahua's longest are a few dozen


class DahuaErrorAnswer(HttpErrorAnswer):
    """The device answered with its ``Error`` text instead of the document."""


def parse_key_values(body: bytes) -> dict[str, str]:
    """The answer's keys and values, in order (a repeated key keeps its first value)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpContentError(f"not UTF-8 text (byte {exc.start})") from None
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html")):
        raise HttpContentError("an HTML page where key=value text was expected")
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if lines and lines[0].split(":", 1)[0].strip().lower() == "error":
        reason = " ".join(lines)[:200]
        raise DahuaErrorAnswer(f"the device answered: {reason}")
    out: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or len(key) > MAX_KEY or any(c.isspace() for c in key):
            raise HttpContentError(f"line {number} is not key=value: {line[:80]!r}")
        out.setdefault(key, value.strip())
    return out
