"""Who is signed in: server-side sessions, CSRF tokens, a bounded sign-in rate.

- A session is 32 random bytes in a cookie (HttpOnly, SameSite=Strict, Path=/,
  Secure when the request came over TLS); the server keeps its SHA-256 with the user,
  a CSRF token and the expiry, at most `MAX_SESSIONS` (the oldest go first). Signing
  out or a restart of the center ends it.
- Every POST carries the session's CSRF token in the form field ``csrf``
  (compared in constant time); the sign-in form carries the one of a short-lived
  cookie set with the form (double submit), so no other site can sign a browser in.
- Failed sign-ins are counted per client address and per user name: after
  `FAILURES` within `WINDOW` seconds, more are refused (429) until the window passes,
  whether the password is right or not.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from center.web.users import User

Clock = Callable[[], float]
SESSION_COOKIE = "lvgw_center_session"
LOGIN_COOKIE = "lvgw_center_login"
MAX_SESSIONS = 4096
FAILURES = 5
WINDOW = 300.0
MAX_TRACKED = 10_000


def _key(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()


def same_token(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf: str
    expires: float


class Sessions:
    def __init__(self, lifetime: float, clock: Clock = time.monotonic) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._sessions: dict[bytes, Session] = {}  # in the order they were opened

    def __len__(self) -> int:
        return len(self._sessions)

    def open(self, user: User) -> str:
        """A new session of ``user``; its value, for the cookie."""
        now = self.clock()
        self._sessions = {k: s for k, s in self._sessions.items() if s.expires > now}
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        value = secrets.token_urlsafe(32)
        self._sessions[_key(value)] = Session(user, secrets.token_urlsafe(32), now + self.lifetime)
        return value

    def get(self, value: str | None) -> Session | None:
        if not value:
            return None
        key = _key(value)
        session = self._sessions.get(key)
        if session is None:
            return None
        if session.expires <= self.clock():
            del self._sessions[key]
            return None
        return session

    def close(self, value: str | None) -> None:
        if value:
            self._sessions.pop(_key(value), None)

    def drop_user(self, name: str) -> None:
        """End every session of ``name`` (removed from the users file, or changed)."""
        self._sessions = {k: s for k, s in self._sessions.items() if s.user.name != name}


class SignInLimiter:
    """Failed sign-ins per key (a client address, a user name) in a sliding window."""

    def __init__(
        self, failures: int = FAILURES, window: float = WINDOW, clock: Clock = time.monotonic
    ) -> None:
        self.failures = failures
        self.window = window
        self.clock = clock
        self._failed: dict[str, list[float]] = {}

    def _recent(self, key: str) -> list[float]:
        since = self.clock() - self.window
        times = [t for t in self._failed.get(key, []) if t > since]
        if times:
            self._failed[key] = times
        else:
            self._failed.pop(key, None)
        return times

    def blocked(self, *keys: str) -> float:
        """Seconds until another try is allowed (0: allowed now)."""
        wait = 0.0
        for key in keys:
            times = self._recent(key)
            if len(times) >= self.failures:
                wait = max(wait, times[-self.failures] + self.window - self.clock())
        return wait

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            if key not in self._failed and len(self._failed) >= MAX_TRACKED:
                del self._failed[next(iter(self._failed))]  # the oldest tracked key
            self._failed.setdefault(key, []).append(now)
            del self._failed[key][: -self.failures]
