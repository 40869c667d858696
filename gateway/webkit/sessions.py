"""Browser sessions: a random value in a cookie, its expiry kept on the server.

The cookie never carries a credential: after a login the browser gets 32 random
bytes (`secrets.token_urlsafe`) that mean something only to this process, until
they expire or the process restarts. The store keeps their SHA-256, not the values,
and holds at most ``max_sessions`` (the oldest go first), so nothing a client sends
can grow it without bound.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

from aiohttp import web

Clock = Callable[[], float]
SESSION_BYTES = 32
MAX_SESSIONS = 256


def _key(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()


class SessionStore:
    def __init__(
        self, lifetime: float, *, max_sessions: int = MAX_SESSIONS, clock: Clock = time.monotonic
    ) -> None:
        """``lifetime``: seconds a session stays valid after the login that opened it."""
        self.lifetime = lifetime
        self.max_sessions = max_sessions
        self.clock = clock
        self._expiry: dict[bytes, float] = {}  # in the order they were opened

    def __len__(self) -> int:
        return len(self._expiry)

    def open(self) -> str:
        """A new session's value, for the cookie."""
        now = self.clock()
        self._expiry = {k: t for k, t in self._expiry.items() if t > now}
        while len(self._expiry) >= self.max_sessions:
            del self._expiry[next(iter(self._expiry))]
        value = secrets.token_urlsafe(SESSION_BYTES)
        self._expiry[_key(value)] = now + self.lifetime
        return value

    def valid(self, value: str | None) -> bool:
        if not value:
            return False
        key = _key(value)
        expiry = self._expiry.get(key)
        if expiry is None:
            return False
        if expiry <= self.clock():
            del self._expiry[key]
            return False
        return True

    def set_cookie(self, response: web.StreamResponse, request: web.Request, name: str) -> None:
        """Opens a session and sets it as cookie ``name``: HttpOnly, SameSite=Strict,
        Path=/, Max-Age the lifetime, and Secure when the request came over TLS."""
        response.set_cookie(
            name,
            self.open(),
            path="/",
            max_age=int(self.lifetime),
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )
