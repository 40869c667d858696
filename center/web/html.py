"""The web app's page frame and the small pieces every page uses.

Server-side HTML as the gateway's status page makes it (gateway/views/pages.py): its
style sheet and its one script (the countdowns that tick every second from
``data-due``) are reused, with a few rules of the center's own; everything that
came from a site, a ticket or a user passes through `escape`. The policy allows
exactly that style and that script (by their hashes), forms to this site only.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from html import escape
from urllib.parse import quote

from gateway.views.pages import SCRIPT
from gateway.views.pages import STYLE as GATEWAY_STYLE
from gateway.views.status import LEVELS, _countdown

__all__ = ["escape"]

STYLE = (
    GATEWAY_STYLE
    + """
nav{background:#37474f;padding:6px 16px}nav a{color:#fff;margin-right:16px}
nav form{display:inline;float:right}nav span{color:#cfd8dc;margin-right:8px}
form.act{display:inline}button{font:inherit;padding:1px 8px;cursor:pointer}
.flash{background:#e8f5e9;border:1px solid #a5d6a7;padding:6px 10px;margin:8px 0}
.flash.bad{background:#ffebee;border-color:#ef9a9a}
.filters{margin:6px 0}.filters select,.filters input{font:inherit}
.login{max-width:320px;margin:60px auto;background:#fff;padding:16px 20px}
.login input{width:100%;box-sizing:border-box;margin:4px 0 10px;font:inherit}
.num{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#2e7d32}
.late{color:#c62828;font-weight:600}
iframe#report{width:100%;height:75vh;border:1px solid #ccc;background:#fff}
@media print{nav,.noprint{display:none}body{background:#fff}}
"""
)


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src '{_digest(STYLE)}'; script-src '{_digest(SCRIPT)}'; "
    "img-src data:; frame-src 'self'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)


def q(text: str) -> str:
    """A path segment."""
    return quote(text, safe="")


def badge(level: int | None) -> str:
    number = level if level in LEVELS else 0
    return f'<span class="lvl lvl{number}">{LEVELS.get(number, "OK")}</span>'


def stamp(when: datetime | None) -> str:
    """A time as the site wrote it (its own offset), to the minute."""
    return when.strftime("%Y-%m-%d %H:%M %z") if when else "-"


def countdown(due: datetime | None, now: datetime) -> str:
    """A deadline that still runs: ticked by the page's script from ``data-due``."""
    if due is None:
        return '<span class="muted">none</span>'
    text = _countdown(due, now)
    overdue = " overdue" if text.startswith("OVERDUE") else ""
    return f'<span class="due{overdue}" data-due="{escape(due.isoformat())}">{text}</span>'


def met(done: datetime | None, on_time: bool | None, what: str) -> str:
    """A deadline that is met: when, and whether in time."""
    verdict = {True: '<span class="ok">on time</span>', False: '<span class="late">late</span>'}
    said = verdict[on_time] if on_time is not None else ""
    return f"{what} {escape(stamp(done))} {said}".rstrip()


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{escape(token)}">'


def layout(
    title: str,
    body: str,
    *,
    user: str | None = None,
    role: str | None = None,
    links: list[tuple[str, str]] | None = None,
    csrf: str | None = None,
    refresh: int | None = None,
    script: bool = True,
) -> str:
    """A page; ``script`` False for a document to print or download (no countdowns)."""
    nav = ""
    if user is not None:
        items = "".join(f'<a href="{escape(h)}">{escape(t)}</a>' for h, t in links or [])
        out = (
            f'<form method="post" action="/logout">{csrf_field(csrf or "")}'
            f"<span>{escape(user)} ({escape(role or '')})</span>"
            '<button type="submit">Sign out</button></form>'
        )
        nav = f"<nav>{items}{out}</nav>"
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'{meta}<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>lvgw-center</p></header>{nav}"
        f"<main>{body}</main>{f'<script>{SCRIPT}</script>' if script else ''}</body></html>"
    )
