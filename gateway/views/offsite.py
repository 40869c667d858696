"""``cmd/report`` and ``cmd/status``: the pre-visit report and the site's status for
someone who is not at the box, asked over the service center's broker (docs/mqtt.md,
"Reports and status over MQTT").

Both are built on the box from its own state directory, exactly as `lvgw report` and
`lvgw status --json` build them, in a worker thread so that the agent's event loop
never waits on them. A report larger than one message is sent as numbered parts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from gateway import snapshot
from gateway.config.load import LoadedConfig
from gateway.metrics.store.errors import StoreError
from gateway.tickets.history import TicketHistoryError
from gateway.uplink.inbound import Command, Replies
from gateway.views.report.command import FORMATS, make_report
from gateway.views.status import status_document

log = logging.getLogger("lvgw.offsite")

# A report of more parts is refused rather than sent: 16 MiB, hundreds of times a
# large site's report (a 60-device site's HTML report is under 200 kB).
MAX_PARTS = 256
REPORT_SECONDS = 120.0  # a report that takes longer is answered with an error
MAX_DAYS = 366

REQUEST_ID = {"type": "string", "maxLength": 200}
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "request_id": REQUEST_ID,
        "format": {"enum": list(FORMATS)},
        "device": {"type": "string", "minLength": 1, "maxLength": 63},
        "days": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
    },
}
STATUS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"request_id": REQUEST_ID},
}


def split_text(base: dict[str, Any], field: str, text: str, limit: int) -> list[dict[str, Any]]:
    """``base`` with ``text`` in ``field``, as numbered parts (``part`` 1..``parts``) whose
    JSON is at most ``limit`` bytes each; every part carries ``sha256``, the digest of
    the whole text (UTF-8), so the reassembled text can be checked."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    widest = {**base, "part": MAX_PARTS, "parts": MAX_PARTS, "sha256": digest, field: ""}
    budget = limit - len(json.dumps(widest).encode())
    if budget < 64:
        raise ValueError(f"a reply limit of {limit} bytes leaves no room for the text")
    chunks: list[str] = []
    start = 0
    while start < len(text) or not chunks:
        size = min(budget, len(text) - start)  # every character costs at least a byte
        while True:
            cost = len(json.dumps(text[start : start + size]).encode()) - 2
            if cost <= budget:
                break
            size = max(1, size * budget // cost - 1)
        chunks.append(text[start : start + size])
        start += size
        if len(chunks) > MAX_PARTS:
            raise ValueError(f"more than {MAX_PARTS} parts of {limit} bytes")
    total = len(chunks)
    return [
        {**base, "part": n, "parts": total, "sha256": digest, field: chunk}
        for n, chunk in enumerate(chunks, start=1)
    ]


class OffsiteCommands:
    """The commands that show the site to someone who is not there."""

    SLOW = frozenset({"cmd/report", "cmd/status"})  # answered beside acks (the uplink)

    def __init__(self, config: LoadedConfig) -> None:
        self.config = config
        # One reply message at most (the JSON of a part): by default the bound of the
        # gateway's inbound messages, so a center that bounds what it takes alike takes it.
        self.reply_bytes = config.site_file.limits.mqtt_reply_bytes
        self._one_report = asyncio.Lock()  # one report built at a time

    def commands(self) -> dict[str, tuple[dict[str, Any], Command]]:
        return {"report": (REPORT_SCHEMA, self.report), "status": (STATUS_SCHEMA, self.status)}

    async def report(self, body: dict[str, Any]) -> dict[str, Any]:
        fmt = str(body.get("format", "md"))
        device = body.get("device")
        base: dict[str, Any] = {"ok": True, "format": fmt}
        if "request_id" in body:
            base["request_id"] = body["request_id"]
        if device is not None and device not in {d.id for d in self.config.devices}:
            return _error(f"no device {device!r} at this site")
        days = int(body.get("days", 30))
        try:
            async with self._one_report, asyncio.timeout(REPORT_SECONDS):
                text, parts = await asyncio.to_thread(self._build, device, fmt, days, base)
        except TimeoutError:
            return _error(f"the report took longer than {REPORT_SECONDS:g} s")
        except (StoreError, TicketHistoryError) as exc:
            return _error(f"the gateway could not read its state: {exc}")
        except ValueError as exc:
            return _error(f"the report is too large to send: {exc}")
        log.info("report sent format=%s bytes=%d parts=%d", fmt, len(text.encode()), len(parts))
        return Replies(parts[0], parts[1:])

    def _build(
        self, device: str | None, fmt: str, days: int, base: dict[str, Any]
    ) -> tuple[str, list[dict[str, Any]]]:
        """In a worker thread: the report (its own event loop for the stores' reads)
        and its parts."""
        text = asyncio.run(make_report(self.config, device, fmt, days, datetime.now(UTC)))
        return text, split_text(base, "report", text, self.reply_bytes)

    async def status(self, body: dict[str, Any]) -> dict[str, Any]:
        state_dir = self.config.site_file.agent.state_dir
        data = await asyncio.to_thread(snapshot.read, state_dir)
        if data is None:
            return _error("no status yet: the agent has not written its first snapshot")
        return {"ok": True, "status": status_document(data)}


def _error(message: str) -> dict[str, Any]:
    return {"ok": False, "error": message}
