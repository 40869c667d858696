"""The ``cmd/maintenance`` MQTT command: set, clear or list maintenance windows.

The message shapes are documented in docs/maintenance.md. The handler changes the
maintenance file like ``lvgw maintenance`` does; the running agent applies the
change at its next tick.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jsonschema

from gateway.correlate.errors import MaintenanceError, MaintenanceStoreError
from gateway.correlate.maintenance import MAX_TEXT, MaintenanceStore, end_time

log = logging.getLogger("lvgw.correlate")

MAINTENANCE_COMMAND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["action"],
    "additionalProperties": False,
    "properties": {
        "action": {"enum": ["set", "clear", "list"]},
        "target": {"type": "string", "minLength": 1, "maxLength": 63},
        "until": {"type": "string", "minLength": 1, "maxLength": 64},
        "for": {
            "oneOf": [
                {"type": "string", "minLength": 1, "maxLength": 32},
                {"type": "number", "exclusiveMinimum": 0},
            ]
        },
        "by": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
        "reason": {"type": "string", "maxLength": MAX_TEXT},
        "request_id": {"type": "string", "maxLength": 200},
    },
}

_NEEDS: dict[str, tuple[str, ...]] = {"set": ("target", "by"), "clear": ("target",), "list": ()}


def handle_maintenance_command(
    store: MaintenanceStore, payload: Mapping[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """Run one maintenance command; the reply always has ``ok``, and ``error`` when
    it is false. Never raises for a bad request."""
    now = now or datetime.now(UTC)
    reply: dict[str, Any] = {"ok": False}
    request_id = payload.get("request_id")
    if isinstance(request_id, str):
        reply["request_id"] = request_id
    try:
        jsonschema.validate(dict(payload), MAINTENANCE_COMMAND_SCHEMA)
        action = str(payload["action"])
        reply["action"] = action
        missing = [f for f in _NEEDS[action] if f not in payload]
        if missing:
            raise MaintenanceError(f"{action} needs {' and '.join(missing)}")
        if action == "set":
            until = end_time(now, payload.get("until"), payload.get("for"))
            window = store.set_maintenance(
                payload["target"], until, payload["by"], payload.get("reason", ""), now
            )
            reply["window"] = window.to_json()
            log.info(
                "maintenance set target=%s until=%s by=%s (command)",
                window.target, reply["window"]["until"], window.by,
            )  # fmt: skip
        elif action == "clear":
            ended = store.clear_maintenance(payload["target"], now)
            reply["ended"] = ended.to_json()
            log.info("maintenance cleared target=%s (command)", ended.target)
        reply["windows"] = [w.to_json() for w in store.maintenance(now)]
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "message"
        reply["error"] = f"invalid {where}: {exc.message}"
        return reply
    except MaintenanceError as exc:
        reply["error"] = str(exc)
        return reply
    except MaintenanceStoreError as exc:
        log.error("maintenance command failed: %s", exc)
        reply["error"] = f"the gateway could not save it: {exc}"
        return reply
    reply["ok"] = True
    return reply
