"""One event of the ``eventManager.cgi?action=attach`` stream.

Each part of the ``multipart/x-mixed-replace`` stream is ``text/plain``:
``Code=VideoLoss;action=Start;index=0`` (some events add ``;data={...}``, JSON that
may itself hold ``;``), or ``Heartbeat`` when the client asked for one.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.http.client import HttpContentError


@dataclass(frozen=True, slots=True)
class DahuaEvent:
    code: str  # VideoLoss, StorageFailure, StorageNotExist, StorageLowSpace...
    action: str  # Start, Stop (Pulse: a moment, no state)
    index: int | None  # the channel (or disk) it is about, from 0; None if not given


def event_of(body: bytes) -> DahuaEvent | None:
    """The event in one part; None for a heartbeat. HttpContentError if it is neither."""
    text = body.decode("utf-8", "replace").strip()
    if text == "Heartbeat" or not text:
        return None
    head = text.split(";data=", 1)[0]  # the data's JSON may hold ';' and '='
    fields: dict[str, str] = {}
    for item in head.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    code = fields.get("Code")
    if not code:
        raise HttpContentError(f"not an event: {text[:80]!r}")
    index_text = fields.get("index", "")
    index = int(index_text) if index_text.lstrip("-").isdigit() else None
    return DahuaEvent(code, fields.get("action", ""), index)
