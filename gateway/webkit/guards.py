"""What every page of ours answers with, whatever it shows.

- `read_only`: GET and HEAD only; anything else is ``405`` before any handler runs.
- `add_security_headers`: on every response the app sends (errors included), a
  Content-Security-Policy, no framing, no sniffing, no referrer, no caching, and a
  ``Server`` header that names no versions.
- `same_site_target`: where a redirect may point: a path on this site, never a
  scheme-relative ``//host/...`` or ``/\\host`` that a browser would take off-site.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from urllib.parse import quote, urlencode

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
READ_METHODS = ("GET", "HEAD")
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@web.middleware
async def read_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in READ_METHODS:
        return web.Response(
            status=405,
            text="read-only: GET and HEAD only\n",
            headers={"Allow": ", ".join(READ_METHODS)},
        )
    return await handler(request)


def add_security_headers(app: web.Application, content_security_policy: str) -> None:
    """Every response of ``app`` carries `SECURITY_HEADERS` and the given policy."""
    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": content_security_policy,
        "Server": "lvgw",
    }

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(headers)

    app.on_response_prepare.append(on_prepare)


def same_site_target(path: str, query: Mapping[str, Sequence[str]] | None = None) -> str:
    """A redirect target on this site for the decoded ``path`` and ``query``.

    The path is percent-encoded again (a backslash, a colon, a ``?`` become
    ``%5C``, ``%3A``, ``%3F``) and leading slashes fold into one, so the result
    is always a path-absolute reference: ``//evil.example/x`` becomes
    ``/evil.example/x``, a page of this site.
    """
    target = "/" + quote(path, safe="/").lstrip("/")
    if query:
        target += "?" + urlencode({k: list(v) for k, v in query.items()}, doseq=True)
    return target
