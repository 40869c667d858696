"""A local HTTP server for tests that receive what lvgw-center sends: webhooks, chat
robots, Alertmanager's notifications.

`serving` runs an aiohttp handler on 127.0.0.1 at a port the system picks as it binds
(no port chosen beforehand that another test could take meanwhile) and yields the
base URL; `signed` checks a webhook body's ``X-Lvgw-Signature`` the way a helpdesk
would, computed here rather than with lvgw-center's own function.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serving(handle: Handler, path: str = "/{tail:.*}") -> AsyncIterator[str]:
    """``handle`` answers every POST to ``path``; yields ``http://127.0.0.1:PORT``."""
    app = web.Application()
    app.router.add_post(path, handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def signed(key: bytes, body: bytes, header: str | None) -> bool:
    """Is ``header`` the HMAC-SHA256 signature of ``body`` with ``key`` (``sha256=HEX``)?"""
    expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header or "")
