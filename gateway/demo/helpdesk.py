"""The demo's service center: `lvgw-center run` on SQLite and the helpdesk it feeds.

`lvgw-center` runs as its own process (``python -m center run``, as a center runs it:
the gateway never imports it) on the demo's broker, with a ledger in the demo's
directory and one `webhook` adapter. The helpdesk is a local HTTP receiver that
checks each delivery's ``X-Lvgw-Signature`` and prints the ticket it got, so a
newcomer sees a ticket go from the site through the center into a helpdesk's hands.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from gateway.desk import LEVEL_NAMES
from gateway.webkit.server import WebServer

READY_LINE = "subscribed to"  # what lvgw-center logs once it takes events


class Helpdesk:
    """A webhook receiver on a free loopback port; prints each ticket event it gets."""

    def __init__(self, key: bytes, say: Callable[[str], None]) -> None:
        self.key = key
        self.say = say
        self.received = 0
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/hook", self._hook)
        self.server = WebServer(app, "127.0.0.1", 0, name="demo helpdesk")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/hook"

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(self.key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Lvgw-Signature", "")):
            self.say("helpdesk: a delivery with a wrong signature, refused")
            return web.Response(status=401)
        try:
            event = json.loads(body)
            kind, level = str(event["event"]).upper(), LEVEL_NAMES.get(event["severity"], "?")
            line = f"{kind:<8} {level:<15} {event['ticket_id']} #{event['seq']}"
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400)
        self.received += 1
        self.say(f"{datetime.now(UTC):%H:%M:%S}  helpdesk got {line} (webhook from lvgw-center)")
        return web.Response(status=204)


def center_yaml(workdir: Path, broker_port: int, hook_url: str, key: bytes) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    secret = workdir / "hook.secret"
    secret.write_bytes(key + b"\n")
    secret.chmod(0o600)
    path = workdir / "center.yaml"
    path.write_text(
        f"broker: {{host: 127.0.0.1, port: {broker_port}, client_id: lvgw-center-demo}}\n"
        f"database: sqlite:///{workdir / 'center.db'}\n"
        f"adapters: [{{type: webhook, url: '{hook_url}', secret_file: hook.secret}}]\n"
    )
    return path


async def start_center(
    workdir: Path, broker_port: int, say: Callable[[str], None]
) -> tuple[asyncio.subprocess.Process, Helpdesk]:
    """The helpdesk, then `lvgw-center run`; returns once the center takes events."""
    key = secrets.token_hex(16).encode()
    helpdesk = Helpdesk(key, say)
    await helpdesk.server.start()
    config = center_yaml(workdir, broker_port, helpdesk.url, key)
    log_path = workdir / "center.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "center", "run", "-c", str(config),
            stdout=log, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        async with asyncio.timeout(30):
            while READY_LINE not in log_path.read_text(errors="replace"):
                if proc.returncode is not None:
                    raise RuntimeError(f"lvgw-center exited:\n{log_path.read_text()}")
                await asyncio.sleep(0.1)
    except BaseException:
        proc.kill()
        await proc.wait()
        await helpdesk.server.close()
        raise
    say(f"service center: lvgw-center on SQLite (log {log_path}), its webhook to a local")
    say(f"  helpdesk at {helpdesk.url}; the ledger: lvgw-center tickets -c {config}")
    return proc, helpdesk
