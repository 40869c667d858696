"""The web app's reports: a site's pre-visit report fetched from its gateway now (over
``cmd/report``, center/remote.py), the on-time rate, and a customer's monthly service
report; each as a page, and as HTML or PDF to download."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiomqtt
from aiohttp import web

from center import remote
from center.web import app as base
from center.web.html import escape, layout, q
from center.web.monthly import month_bounds, monthly, report_page
from center.web.ontime import ontime_page
from center.web.pdf import PdfError, Printer
from center.web.tickets import customers_of_sites

PRINTER: web.AppKey[Printer] = web.AppKey("printer", Printer)
FETCHED: web.AppKey[OrderedDict[str, tuple[str, float]]] = web.AppKey("fetched", OrderedDict)
REPORT_WAIT = 20.0  # seconds the page waits for the gateway's report
KEEP_REPORTS = 64  # the last reports fetched, for the downloads that follow the page
# The gateway's HTML report carries its own style sheet; it may show nothing else.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none';"
    " form-action 'none'; frame-ancestors 'self'"
)


def _zone(request: web.Request) -> ZoneInfo:
    """The reporting time zone of the month pages (web.timezone)."""
    web_settings = request.app[base.CENTER].web
    return ZoneInfo(web_settings.timezone if web_settings is not None else "UTC")


def _month(request: web.Request) -> str:
    month = request.query.get("month") or datetime.now(_zone(request)).strftime("%Y-%m")
    try:
        month_bounds(month)
    except ValueError:
        why = f"400: month: YYYY-MM expected, not {month[:20]!r}\n"
        raise web.HTTPBadRequest(text=why) from None
    return month


def _download(body: bytes, content_type: str, name: str) -> web.Response:
    return web.Response(
        body=body, content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


async def _pdf(request: web.Request, html: str, name: str) -> web.Response:
    try:
        pdf = await request.app[PRINTER].pdf(html)
    except PdfError as exc:
        base.log.error("PDF of %s: %s", name, exc)
        raise web.HTTPServiceUnavailable(text=f"503: no PDF: {exc}\n") from None
    return _download(pdf, "application/pdf", name)


# -- a site's pre-visit report ------------------------------------------------------------


async def site_report(request: web.Request) -> web.Response:
    """Asks the site's gateway for its report now; the page shows it (in a frame of
    its own) with the downloads, or says why there is none: an offline site is not
    asked, and the page says since when it is offline."""
    site_id = request.match_info["site_id"]
    await base.allowed_site(request, site_id)
    store = request.app[base.STORE]
    known = remote.seen(await store.sites(), site_id)
    center = request.app[base.CENTER]
    try:
        text = await remote.fetch_report(center, site_id, "html", None, known, REPORT_WAIT)
    except remote.NoReport as exc:
        body = f'<p class="flash bad" id="no-report">{escape(str(exc))}</p>'
        return base.page(request, f"Pre-visit report: {site_id}", body)
    except aiomqtt.MqttError as exc:
        body = f'<p class="flash bad" id="no-report">The broker cannot be reached: {escape(str(exc))}</p>'  # noqa: E501
        return base.page(request, f"Pre-visit report: {site_id}", body)
    fetched = request.app[FETCHED]
    fetched[site_id] = (text, time.time())
    fetched.move_to_end(site_id)
    while len(fetched) > KEEP_REPORTS:
        fetched.popitem(last=False)
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    path = f"/sites/{q(site_id)}/report"
    body = (
        f'<p id="report-got">Fetched from the gateway at {at}.'
        f' <a href="{path}.html?download=1">Download HTML</a>'
        f' · <a href="{path}.pdf">Download PDF</a>'
        f' · <a href="{path}.html">Open alone</a></p>'
        f'<iframe id="report" src="{path}.html" title="pre-visit report"></iframe>'
    )
    return base.page(request, f"Pre-visit report: {site_id}", body)


def _fetched(request: web.Request, site_id: str) -> str:
    kept = request.app[FETCHED].get(site_id)
    if kept is None:
        raise web.HTTPNotFound(
            text=f"404: no report of {site_id} fetched yet: open /sites/{site_id}/report\n"
        )
    return kept[0]


async def site_report_html(request: web.Request) -> web.Response:
    site_id = request.match_info["site_id"]
    await base.allowed_site(request, site_id)
    text = _fetched(request, site_id)
    if request.query.get("download"):
        return _download(text.encode(), "text/html", f"{site_id}-pre-visit-report.html")
    response = web.Response(text=text, content_type="text/html")
    response.headers["Content-Security-Policy"] = REPORT_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


async def site_report_pdf(request: web.Request) -> web.Response:
    site_id = request.match_info["site_id"]
    await base.allowed_site(request, site_id)
    return await _pdf(request, _fetched(request, site_id), f"{site_id}-pre-visit-report.pdf")


# -- the on-time rate and the monthly report ----------------------------------------------


async def ontime(request: web.Request) -> web.Response:
    base.require(request, "dispatcher")
    month = _month(request)
    body = ontime_page(await base.ticket_views(request), month, _zone(request))
    return base.page(request, f"On-time rate {month}", body)


async def customer_monthly(request: web.Request) -> web.Response:
    user = base.require(request, "dispatcher", "customer")
    customer = request.match_info["customer"]
    if not user.sees_customer(customer):
        raise web.HTTPForbidden(text="403: not a customer of yours\n")
    month = _month(request)
    tickets = await base.ticket_views(request)
    configured = {s.id: s.customer for s in request.app[base.CENTER].sites}
    customers = customers_of_sites(tickets, configured)
    store = request.app[base.STORE]
    health = {}
    for site_id in (s for s, c in customers.items() if c == customer):
        found = await store.health(site_id)
        health[site_id] = found[0] if found else None
    report = monthly(customer, month, tickets, customers, health, datetime.now(UTC), _zone(request))
    title = f"Monthly service report: {customer}, {month}"
    path = f"/customers/{q(customer)}/monthly?month={q(month)}"
    fmt = request.query.get("format", "")
    if fmt in ("html", "pdf"):
        document = layout(title, report_page(report), script=False)
        name = f"{customer}-{month}-service-report.{fmt}".replace(" ", "-")
        if fmt == "pdf":
            return await _pdf(request, document, name)
        return _download(document.encode(), "text/html", name)
    downloads = (
        f'<p class="noprint"><a href="{path}&amp;format=html">Download HTML</a>'
        f' · <a href="{path}&amp;format=pdf">Download PDF</a></p>'
    )
    return base.page(request, title, downloads + report_page(report))


def report_routes(app: web.Application, chromium: str) -> None:
    app[PRINTER] = Printer(chromium)
    app[FETCHED] = OrderedDict()
    app.router.add_get("/sites/{site_id}/report", site_report)
    app.router.add_get("/sites/{site_id}/report.html", site_report_html)
    app.router.add_get("/sites/{site_id}/report.pdf", site_report_pdf)
    app.router.add_get("/ontime", ontime)
    app.router.add_get("/customers/{customer}/monthly", customer_monthly)
