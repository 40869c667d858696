"""``POST /api/v1/tickets/<ticket_id>/<ack|arrive|depart>``: the helpdesk says it.

The request is authenticated like the webhook the center sends it: the header
``X-Lvgw-Signature: sha256=<hex HMAC-SHA256 of the body>``, keyed with the
``secret_file`` of one of the center's ``webhook`` adapters (the helpdesk that
receives an adapter's events holds its secret). The body is a JSON object:
``{"by": NAME, "note": TEXT, "at": TIME, "request_id": ID}`` (``by`` required; ``at``
for arrive and depart). ``?wait=SECONDS`` (at most 60) awaits the gateway's reply.

The message goes to the site as ``lvgw-center ack`` sends it (center/commands.py).
Answers, JSON: 202 sent (no reply awaited or none yet), 200 taken by the gateway,
422 refused by it, 400 a bad body, 401 not authenticated, 404 an unknown ticket, 409
a resolved one, 413 a body over 64 KiB, 503 the broker unreachable (nothing sent).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

import aiomqtt
from aiohttp import web

from center import commands
from center.adapters.webhook import SIGNATURE_HEADER, read_key, signature
from center.config import CenterFile, Webhook
from center.ledger import LedgerStore
from gateway.config.listen import parse_listen
from gateway.webkit.guards import add_security_headers
from gateway.webkit.server import WebServer

log = logging.getLogger("lvgw-center.web")
MAX_BODY = 64 * 1024
_FIELDS = {"by", "note", "at", "request_id"}
CENTER_KEY: web.AppKey[CenterFile] = web.AppKey("center", CenterFile)
STORE_KEY: web.AppKey[LedgerStore] = web.AppKey("store", LedgerStore)
KEYS_KEY: web.AppKey[dict[str, bytes]] = web.AppKey("keys", dict)


def _answer(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status)


def _refuse(status: int, error: str) -> web.Response:
    return _answer(status, {"ok": False, "error": error})


def signer_of(keys: dict[str, bytes], header: str | None, body: bytes) -> str | None:
    """The adapter whose key made ``header`` over ``body`` (None: none did)."""
    if header is None:
        return None
    found = None
    for name, key in keys.items():  # every key compared: the time says nothing
        if hmac.compare_digest(header.encode(), signature(key, body).encode()):
            found = name
    return found


async def take(request: web.Request) -> web.Response:
    ticket_id, verb = request.match_info["ticket_id"], request.match_info["action"]
    body = await request.read()
    adapter = signer_of(request.app[KEYS_KEY], request.headers.get(SIGNATURE_HEADER), body)
    if adapter is None:
        return _refuse(401, f"unauthenticated: {SIGNATURE_HEADER} is missing or wrong")
    try:
        wait = float(request.query.get("wait", "0"))
    except ValueError:
        return _refuse(400, "wait: a number of seconds expected")
    try:
        fields = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _refuse(400, "not JSON: a JSON object with by expected")
    if not isinstance(fields, dict):
        return _refuse(400, "a JSON object with by expected")
    extra = sorted(set(fields) - _FIELDS)
    if extra:
        return _refuse(400, f"unknown field {extra[0]!r} (known: {', '.join(sorted(_FIELDS))})")
    by = fields.get("by")
    if not isinstance(by, str):
        return _refuse(400, "by: who it is (a text) is required")
    try:
        message = commands.build_message(
            ticket_id, verb, by, fields.get("note"), fields.get("at"),
            fields.get("request_id"),
        )  # fmt: skip
    except commands.Refused as exc:
        return _refuse(400, str(exc))
    except TypeError:  # an at that is not a text
        return _refuse(400, "at: an RFC 3339 time (a text) expected")
    store = request.app[STORE_KEY]
    try:
        site_id = commands.check_ticket(ticket_id, await store.locate_ticket(ticket_id))
    except commands.Refused as exc:
        return _refuse(404 if exc.unknown else 409, str(exc))
    center = request.app[CENTER_KEY]
    try:
        sent = await commands.send(center, site_id, message, max(0.0, wait))
    except aiomqtt.MqttError as exc:
        where = f"{center.broker.host}:{center.broker.port}"
        log.error("callback %s %s: broker %s: %s", verb, ticket_id, where, exc)
        return _refuse(503, f"broker {where}: {exc}: nothing was sent")
    log.info("callback %s ticket=%s site=%s by=%s adapter=%s request=%s", verb, ticket_id,
             site_id, message["by"], adapter, sent.request_id)  # fmt: skip
    answer = {"ticket_id": ticket_id, "site": site_id, "action": message["action"],
              "request_id": sent.request_id, "signed": "sig" in sent.message,
              "reply": sent.reply}  # fmt: skip
    if sent.reply is None:
        return _answer(202, {"ok": True, "state": "sent", **answer})
    if sent.reply.get("ok"):
        return _answer(200, {"ok": True, "state": "taken", **answer})
    return _answer(422, {"ok": False, "state": "refused", "error": sent.reply.get("error"),
                         **answer})  # fmt: skip


def callback_app(center: CenterFile, store: LedgerStore) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[CENTER_KEY] = center
    app[STORE_KEY] = store
    app[KEYS_KEY] = {a.name: read_key(a) for a in center.adapters if isinstance(a, Webhook)}
    app.router.add_post(r"/api/v1/tickets/{ticket_id}/{action:ack|arrive|depart}", take)
    if center.web is not None and center.web.users_file is not None:
        from center.web.app import add_page_headers, people_routes
        from center.web.reports import report_routes

        people_routes(app, center, store)
        report_routes(app, center.web.chromium)
        add_page_headers(app)
    else:
        add_security_headers(app, "default-src 'none'")
    return app


def callback_server(center: CenterFile, store: LedgerStore) -> WebServer | None:
    """The server of ``web.listen``; None when CENTER.yaml has no ``web``."""
    if center.web is None:
        return None
    host, port = parse_listen(center.web.listen)
    return WebServer(callback_app(center, store), host, port, name="lvgw-center web")
