"""``cmd/config``: the service center sends a new site file (docs/mqtt.md, "A new site
file").

Refused unless the site has a command key (then the message is signed, fresh and not
a replay: gateway/uplink/inbound.py checks that first). The file is checked as
`lvgw check-config` checks it; one with problems is refused with its ``FILE:LINE``
messages and changes nothing. A good one is swapped in (gateway/config/swap.py), the
reply ``accepted`` goes out, and the agent restarts on it. If the restarted gateway
reaches its broker within ``rollback_after`` (5 minutes) the change is ``applied``;
otherwise the previous file is put back, the agent restarts on it, and the reply says
``rolled_back``. The final reply travels through the outbox, so it survives the
restarts and waits for a broker.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.config import swap
from gateway.config.load import LoadedConfig
from gateway.outbox import MessageClass, Outbox, OutboxMessage
from gateway.uplink import topic_prefix
from gateway.uplink.inbound import MAX_BYTES, MAX_ERROR_CHARS, Command, Replies

log = logging.getLogger("lvgw.reconfigure")

ROLLBACK_AFTER = 300.0  # seconds the restarted gateway has to reach its broker

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["site_file"],
    "additionalProperties": False,
    "properties": {
        "request_id": {"type": "string", "maxLength": 200},
        "site_file": {"type": "string", "minLength": 1, "maxLength": MAX_BYTES},
    },
}


class Reconfigure:
    def __init__(
        self,
        config: LoadedConfig,
        outbox: Outbox,
        connected: asyncio.Event,
        request_reload: Callable[[], None],
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.connected = connected
        self.request_reload = request_reload
        self.state_dir = config.site_file.agent.state_dir
        self.rollback_after = config.site_file.uplink.config_rollback_after
        self._busy = False

    def commands(self) -> dict[str, tuple[dict[str, Any], Command]]:
        return {"config": (CONFIG_SCHEMA, self.command)}

    async def command(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.config.site_file.uplink.command_key_file is None:
            return _refused(
                "refused: a new site file needs a command key (uplink.command_key_file)"
            )
        if self._busy or swap.read_pending(self.state_dir) is not None:
            return _refused("refused: a site file change is under way")
        self._busy = True
        try:
            return await self._try(body)
        finally:
            self._busy = False

    async def _try(self, body: dict[str, Any]) -> dict[str, Any]:
        path = self.config.path
        text = str(body["site_file"])
        try:
            new, problems = await asyncio.to_thread(swap.check, path, text, self.config)
        except OSError as exc:
            return _refused(f"the gateway could not write beside its site file: {exc}")
        if new is None:
            log.warning("new site file refused: %d problems", len(problems))
            shown = problems[: swap.MAX_PROBLEMS]
            reply = _refused(f"the site file has {len(problems)} problems: " + "; ".join(shown))
            return {**reply, "problems": shown}
        mqtt = new.site_file.uplink.mqtt
        deadline = datetime.now(UTC) + timedelta(seconds=self.rollback_after)
        pending = swap.Pending(
            request_id=body.get("request_id"),
            phase=swap.TRYING,
            deadline=deadline.isoformat(),
            broker=f"{mqtt.host}:{mqtt.port}",
        )
        try:
            await asyncio.to_thread(swap.apply, path, text, pending, self.state_dir)
        except OSError as exc:
            swap.clear_pending(self.state_dir)
            return _refused(f"the gateway could not replace its site file: {exc}")
        log.warning(
            "new site file in place; restarting on it (rolled back unless broker %s is"
            " reached by %s)", pending.broker, pending.deadline,
        )  # fmt: skip
        accepted = {
            "ok": True,
            "result": "accepted",
            "rollback_at": pending.deadline,
            "note": "restarting on the new site file; the outcome follows on cmd-reply/config",
        }
        # The agent restarts once the reply has gone out (or failed to).
        return Replies(accepted, [], then=self.request_reload)

    async def watch(self) -> None:
        """At start: finish a change under way. Applied once the broker is reached in
        time; else rolled back (and the agent restarts on the previous file)."""
        pending = swap.read_pending(self.state_dir)
        if pending is None:
            return
        if pending.phase == swap.ROLLED_BACK:
            await self._final(pending, {"ok": False, "result": "rolled_back",
                                        "error": _short(pending.reason)})  # fmt: skip
            return
        left = (pending.deadline_at() - datetime.now(UTC)).total_seconds()
        try:
            async with asyncio.timeout(max(0.0, left)):
                await self.connected.wait()
        except TimeoutError:
            reason = (
                f"the gateway could not reach the broker {pending.broker} with the new site"
                f" file by {pending.deadline}: the previous site file is back"
            )
            log.error("%s", reason)
            await asyncio.to_thread(
                swap.roll_back, self.config.path, self.state_dir, pending, reason
            )
            self.request_reload()
            return
        log.info("new site file applied: broker %s reached", pending.broker)
        await self._final(pending, {"ok": True, "result": "applied"})

    async def _final(self, pending: swap.Pending, reply: dict[str, Any]) -> None:
        if pending.request_id is not None:
            reply["request_id"] = pending.request_id
        topic = topic_prefix(self.config.site_file.site.id) + "cmd-reply/config"
        payload = json.dumps(reply).encode()
        await self.outbox.put(OutboxMessage(topic, payload, 1, False, MessageClass.CONTROL))
        await asyncio.to_thread(swap.clear_pending, self.state_dir)


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def _refused(error: str) -> dict[str, Any]:
    return {"ok": False, "result": "refused", "error": _short(error)}
