"""The center's web app for people, on the server of ``web.listen`` beside the HTTP
callbacks: sign-in, the dispatch board, the fleet and its sites.

Roles (center/web/users.py): a dispatcher sees and does everything; a technician
sees the board, the fleet and the sites and acknowledges, arrives and departs; a
customer sees only the sites of its own customers (403 for any other, by URL too)
and no board. Every page but the sign-in needs a session; every POST its CSRF token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
from aiohttp import web

from center import commands
from center.config import CenterFile
from center.ledger import LedgerStore
from center.web import board as board_view
from center.web import fleet as fleet_view
from center.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Session,
    Sessions,
    SignInLimiter,
    same_token,
)
from center.web.html import CONTENT_SECURITY_POLICY, escape, layout, q
from center.web.tickets import TicketView, customers_of_sites, views
from center.web.users import User, check_password, load_users
from gateway.webkit.guards import SECURITY_HEADERS, same_site_target

log = logging.getLogger("lvgw-center.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSIONS: web.AppKey[Sessions] = web.AppKey("sessions", Sessions)
LIMITER: web.AppKey[SignInLimiter] = web.AppKey("limiter", SignInLimiter)
USERS: web.AppKey[dict[str, User]] = web.AppKey("users", dict)
CENTER: web.AppKey[CenterFile] = web.AppKey("people_center", CenterFile)
STORE: web.AppKey[LedgerStore] = web.AppKey("people_store", LedgerStore)
CUSTOMERS_TTL = 30.0


@dataclass
class CustomerCache:
    at: float = float("-inf")
    customers: dict[str, str] = field(default_factory=dict)


CUSTOMERS: web.AppKey[CustomerCache] = web.AppKey("customers", CustomerCache)
PUBLIC = ("/login", "/api/")
MAX_FORM = 16 * 1024
SEND_WAIT = 5.0  # seconds a button waits for the gateway's reply


def secure(request: web.Request) -> bool:
    """Whether the cookies are Secure: as ``web.secure_cookies`` says, else when the
    request came over TLS."""
    web_settings = request.app[CENTER].web
    configured = web_settings.secure_cookies if web_settings is not None else None
    return request.secure if configured is None else configured


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def session_of(request: web.Request) -> Session:
    """The session `signed_in` let through (looked up again: no per-request storage
    key exists before aiohttp 3.13)."""
    session = request.app[SESSIONS].get(request.cookies.get(SESSION_COOKIE))
    if session is None:  # expired between the middleware and here
        raise web.HTTPForbidden(text="403: sign in first\n")
    return session


def require(request: web.Request, *roles: str) -> User:
    user = session_of(request).user
    if user.role not in roles:
        raise web.HTTPForbidden(text=f"403: a {user.role} account cannot open this\n")
    return user


def links(user: User) -> list[tuple[str, str]]:
    if user.role == "customer":
        return [("/fleet", "Sites")] + [
            (f"/customers/{q(c)}/monthly", f"Monthly report {c}") for c in user.customers
        ]
    if user.role == "technician":
        return [("/board", "Board"), ("/fleet", "Fleet")]
    return [("/board", "Board"), ("/fleet", "Fleet"), ("/ontime", "On time")]


def add_page_headers(app: web.Application) -> None:
    """`SECURITY_HEADERS` and the pages' policy on every response, unless a handler
    set its own (the gateway's report, shown in a frame of this site)."""

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers["Server"] = "lvgw"

    app.on_response_prepare.append(on_prepare)


def page(request: web.Request, title: str, body: str, refresh: int | None = None) -> web.Response:
    session = session_of(request)
    text = layout(
        title, body, user=session.user.name, role=session.user.role,
        links=links(session.user), csrf=session.csrf, refresh=refresh,
    )  # fmt: skip
    return web.Response(text=text, content_type="text/html")


@web.middleware
async def signed_in(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(PUBLIC):
        return await handler(request)
    session = request.app[SESSIONS].get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        if request.method != "GET":
            return web.Response(status=403, text="403: sign in first\n")
        target = same_site_target(request.path, request.query)
        raise web.HTTPSeeOther(f"/login?next={q(target)}")
    if request.method == "POST":
        form = await request.post()
        token = form.get("csrf")
        if not same_token(session.csrf, token if isinstance(token, str) else None):
            return web.Response(status=403, text="403: the form's CSRF token is missing or wrong\n")
    return await handler(request)


# -- sign-in ----------------------------------------------------------------------------


def _login_form(next_path: str, token: str, error: str = "") -> str:
    problem = f'<p class="flash bad">{escape(error)}</p>' if error else ""
    return layout("Sign in", (
        f'<form class="login" method="post" action="/login">{problem}'
        f'<input type="hidden" name="csrf" value="{escape(token)}">'
        f'<input type="hidden" name="next" value="{escape(next_path)}">'
        '<label>Name<input name="name" autocomplete="username" required></label>'
        '<label>Password<input name="password" type="password"'
        ' autocomplete="current-password" required></label>'
        '<button type="submit">Sign in</button></form>'
    ))  # fmt: skip


def _with_login_cookie(request: web.Request, next_path: str, error: str = "",
                       status: int = 200) -> web.Response:  # fmt: skip
    import secrets

    token = secrets.token_urlsafe(24)
    response = web.Response(
        text=_login_form(next_path, token, error), content_type="text/html", status=status
    )
    response.set_cookie(LOGIN_COOKIE, token, path="/login", max_age=3600, httponly=True,
                        samesite="Strict", secure=secure(request))  # fmt: skip
    return response


def _next(value: object) -> str:
    text = value if isinstance(value, str) and value.startswith("/") else "/"
    return same_site_target(text.split("?", 1)[0]) + (
        "?" + text.split("?", 1)[1] if "?" in text else ""
    )


async def login_form(request: web.Request) -> web.Response:
    return _with_login_cookie(request, _next(request.query.get("next", "/")))


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    token = form.get("csrf")
    next_path = _next(form.get("next"))
    expected = request.cookies.get(LOGIN_COOKIE, "\0")
    if not same_token(expected, token if isinstance(token, str) else None):
        return _with_login_cookie(request, next_path, "The form expired: sign in again.", 403)
    name, password = form.get("name"), form.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or len(password) > 1024:
        return _with_login_cookie(request, next_path, "Name and password, please.", 400)
    limiter = request.app[LIMITER]
    keys = (f"addr:{request.remote}", f"user:{name.lower()}")
    wait = limiter.blocked(*keys)
    if wait > 0:
        log.warning("sign-in of %r from %s refused: too many failures", name, request.remote)
        response = _with_login_cookie(
            request, next_path, f"Too many failed sign-ins: try again in {int(wait) + 1} s.", 429
        )
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    user = request.app[USERS].get(name)
    if not await asyncio.to_thread(check_password, user, password):
        limiter.failed(*keys)
        log.warning("sign-in of %r from %s failed", name, request.remote)
        return _with_login_cookie(request, next_path, "Wrong name or password.", 401)
    assert user is not None
    log.info("%s (%s) signed in from %s", user.name, user.role, request.remote)
    response = see_other(next_path if next_path != "/" else _home(user))
    response.set_cookie(
        SESSION_COOKIE, request.app[SESSIONS].open(user), path="/", httponly=True,
        samesite="Strict", secure=secure(request),
    )  # fmt: skip
    response.del_cookie(LOGIN_COOKIE, path="/login")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    request.app[SESSIONS].close(request.cookies.get(SESSION_COOKIE))
    response = see_other("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def _home(user: User) -> str:
    return "/fleet" if user.role == "customer" else "/board"


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(_home(session_of(request).user))


# -- reading the ledger -----------------------------------------------------------------


async def ticket_views(
    request: web.Request, open_only: bool = False, site: str | None = None
) -> list[TicketView]:
    store = request.app[STORE]
    rows = await store.tickets(open_only, site)
    events = await store.last_events(open_only, site)
    return views(rows, events)


async def site_customers(request: web.Request) -> dict[str, str]:
    """Each site's customer (`customers_of_sites`), read from every ticket of the
    ledger at most every `CUSTOMERS_TTL` seconds: each page needs it to know what a
    customer account may see, and reading every ticket's last event each time would
    grow with the ledger."""
    cache = request.app[CUSTOMERS]
    now = time.monotonic()
    if cache.at + CUSTOMERS_TTL <= now:
        configured = {s.id: s.customer for s in request.app[CENTER].sites}
        cache.customers = customers_of_sites(await ticket_views(request), configured)
        cache.at = now
    return cache.customers


# -- the board --------------------------------------------------------------------------


def _flash(request: web.Request) -> str:
    said = request.query.get("said")
    if not said:
        return ""
    bad = " bad" if request.query.get("ok") == "0" else ""
    return f'<p class="flash{bad}" id="flash">{escape(said[:500])}</p>'


async def board(request: web.Request) -> web.Response:
    require(request, "dispatcher", "technician")
    level = request.query.get("level", "")
    filters = board_view.Filters(
        level=int(level) if level in ("1", "2", "3", "4") else None,
        site=request.query.get("site") or None,
        customer=request.query.get("customer") or None,
    )
    tickets = await ticket_views(request, open_only=True)
    body = _flash(request) + board_view.board_page(
        tickets, datetime.now(UTC), filters, csrf=session_of(request).csrf, can_act=True
    )
    return page(request, "Dispatch board", body, refresh=30)


async def act(request: web.Request) -> web.StreamResponse:
    """A button of the board: sent to the site as ``lvgw-center ack|arrive|depart``."""
    user = require(request, "dispatcher", "technician")
    ticket_id, verb = request.match_info["ticket_id"], request.match_info["action"]
    form = await request.post()
    note = form.get("note")
    store = request.app[STORE]
    center = request.app[CENTER]
    try:
        message = commands.build_message(
            ticket_id, verb, user.name, note if isinstance(note, str) and note else None
        )
        site_id = commands.check_ticket(ticket_id, await store.locate_ticket(ticket_id))
        sent = await commands.send(center, site_id, message, SEND_WAIT)
    except commands.Refused as exc:
        return _back(False, str(exc))
    except aiomqtt.MqttError as exc:
        log.error("web %s %s by %s: broker: %s", verb, ticket_id, user.name, exc)
        return _back(False, f"the broker cannot be reached ({exc}): nothing was sent")
    taken, line = commands.describe(verb, ticket_id, sent)
    log.info("web %s ticket=%s site=%s by=%s request=%s", verb, ticket_id, site_id, user.name,
             sent.request_id)  # fmt: skip
    return _back(taken, line)


def _back(ok: bool, said: str) -> web.StreamResponse:
    return see_other(f"/board?ok={int(ok)}&said={q(said)}")


# -- the fleet and a site ---------------------------------------------------------------


async def fleet(request: web.Request) -> web.Response:
    user = session_of(request).user
    customers = await site_customers(request)
    sites = [s for s in await request.app[STORE].sites()
             if user.sees_customer(customers.get(s["site"]))]  # fmt: skip
    listed = {s["site"] for s in sites}
    # Sites with tickets but no status yet are listed too (their gateway never said).
    sites += [
        {"site": sid, "online": False, "since": None, "version": None, "backlog": None,
         "status": {}, "never": True}
        for sid in sorted(set(customers) - listed) if user.sees_customer(customers[sid])
    ]  # fmt: skip
    tickets = [t for t in await ticket_views(request, open_only=True)
               if user.sees_customer(customers.get(t.site_id))]  # fmt: skip
    body = fleet_view.fleet_page(sites, tickets, customers, datetime.now(UTC))
    return page(request, "Fleet" if user.role != "customer" else "Your sites", body, refresh=30)


async def allowed_site(request: web.Request, site_id: str) -> dict[str, str]:
    """The sites' customers; 403 when the signed-in customer may not see ``site_id``."""
    user = session_of(request).user
    customers = await site_customers(request)
    if not user.sees_customer(customers.get(site_id)):
        raise web.HTTPForbidden(text="403: not a site of yours\n")
    return customers


async def site(request: web.Request) -> web.Response:
    site_id = request.match_info["site_id"]
    customers = await allowed_site(request, site_id)
    now = datetime.now(UTC)
    status = next((s for s in await request.app[STORE].sites() if s["site"] == site_id), None)
    tickets = await ticket_views(request, site=site_id)
    if status is None and not tickets:
        raise web.HTTPNotFound(text=f"404: no site {site_id!r} in the ledger\n")
    state = fleet_view.site_state(status, now) if status else "no status yet"
    head = (
        f'<p id="site-state">Customer {escape(customers.get(site_id, "-"))} · {escape(state)}'
        f" · version {escape((status or {}).get('version') or '-')}</p>"
    )
    health = await request.app[STORE].health(site_id)
    body = (
        head + "<h2>Devices</h2>" + fleet_view.health_table(*(health or (None, None)))
        + f'<p><a id="get-report" href="/sites/{q(site_id)}/report">Get the pre-visit'
        " report now</a> (asked of the site's gateway over the broker)</p>"
        + "<h2>Tickets</h2>" + fleet_view.tickets_table(tickets, now)
    )  # fmt: skip
    return page(request, f"Site {site_id}", body, refresh=60)


def people_routes(app: web.Application, center: CenterFile, store: LedgerStore) -> None:
    """Adds the web app to ``app`` (which serves the callbacks too)."""
    assert center.web is not None
    assert center.web.users_file is not None
    app[USERS] = load_users(Path(center.web.users_file))
    app[SESSIONS] = Sessions(center.web.session_lifetime)
    app[LIMITER] = SignInLimiter()
    app[CENTER] = center
    app[STORE] = store
    app[CUSTOMERS] = CustomerCache()
    app.middlewares.append(signed_in)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", home)
    app.router.add_get("/board", board)
    app.router.add_post(r"/tickets/{ticket_id}/{action:ack|arrive|depart}", act)
    app.router.add_get("/fleet", fleet)
    app.router.add_get("/sites/{site_id}", site)
