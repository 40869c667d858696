"""Signed commands: the HMAC that proves an ``acks`` or ``cmd/<name>`` message comes
from the service center (docs/security.md, "Command keys").

A signed message carries three fields besides its own:

- ``ts``: when it was signed, RFC 3339 (``2026-01-05T09:00:00Z``); the gateway accepts
  it within ``WINDOW`` (5 minutes) of its own clock, either way;
- ``nonce``: a text unique within that window (the gateway refuses a second message
  with the same nonce: a replay);
- ``sig``: lowercase hex HMAC-SHA256, keyed with the key file's bytes (trailing
  newline stripped), over the canonical JSON of the message without ``sig``:
  ``json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
  encoded as UTF-8.

This module depends on nothing but the standard library, so that a service center
(or a script) can import it to sign: ``sign(message, load_key(path))``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

WINDOW = timedelta(minutes=5)
FIELDS = ("ts", "nonce", "sig")  # what signing adds to a message
MAX_NONCE_CHARS = 128
MAX_NONCES = 100_000  # nonces remembered: more than any center sends in a window
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Unauthenticated(Exception):
    """Why a message is refused: unsigned, mis-signed, stale or replayed."""


def load_key(path: Path) -> bytes:
    """The key: the file's bytes, trailing newline (CR/LF) stripped; never empty."""
    key = path.read_bytes().rstrip(b"\r\n")
    if not key:
        raise ValueError(f"{path}: the command key is empty")
    return key


def canonical(message: Mapping[str, Any]) -> bytes:
    """The bytes the signature covers: the message without ``sig``, canonical JSON."""
    unsigned = {k: v for k, v in message.items() if k != "sig"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(message: Mapping[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical(message), hashlib.sha256).hexdigest()


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sign(
    message: Mapping[str, Any],
    key: bytes,
    now: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """``message`` with ``ts``, ``nonce`` and ``sig`` added (replacing any there)."""
    signed = {k: v for k, v in message.items() if k not in FIELDS}
    signed["ts"] = rfc3339(now or datetime.now(UTC))
    signed["nonce"] = nonce or secrets.token_hex(16)
    signed["sig"] = signature(signed, key)
    return signed


class Verifier:
    """Checks signed messages for one gateway: signature, time, and no replay."""

    def __init__(
        self,
        key: bytes,
        window: timedelta = WINDOW,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not key:
            raise ValueError("an empty command key")
        self._key = key
        self.window = window
        self.clock = clock
        self._seen: OrderedDict[str, datetime] = OrderedDict()  # nonce -> its ts

    def carried_over(self, key: bytes) -> Verifier:
        """A verifier with ``key`` that remembers the nonces this one has seen: an agent
        restarted in the same process (on a new site file) still refuses their replays."""
        successor = Verifier(key, self.window, self.clock)
        successor._seen = OrderedDict(self._seen)
        return successor

    def verify(self, message: Mapping[str, Any]) -> None:
        """Raise ``Unauthenticated`` unless ``message`` is signed, fresh and new.

        Only a message with a good signature can use up a nonce, so nobody without
        the key can make the gateway refuse the center's next message."""
        sig = message.get("sig")
        if sig is None:
            raise Unauthenticated("the message is not signed (no sig)")
        if not isinstance(sig, str) or not _HEX64.match(sig):
            raise Unauthenticated("sig is not a lowercase hex HMAC-SHA256")
        if not hmac.compare_digest(sig, signature(message, self._key)):
            raise Unauthenticated("bad signature")
        at = _time(message.get("ts"))
        now = self.clock()
        if abs(now - at) > self.window:
            raise Unauthenticated(
                f"ts {message.get('ts')} is more than {self.window.seconds // 60} minutes"
                " from the gateway's clock"
            )
        nonce = message.get("nonce")
        if not isinstance(nonce, str) or not 0 < len(nonce) <= MAX_NONCE_CHARS:
            raise Unauthenticated(f"nonce must be a text of 1 to {MAX_NONCE_CHARS} characters")
        self._forget_before(now - self.window)
        if nonce in self._seen:
            raise Unauthenticated("replayed: this nonce was used already")
        self._seen[nonce] = at
        if len(self._seen) > MAX_NONCES:
            self._seen.popitem(last=False)

    def _forget_before(self, oldest: datetime) -> None:
        # Nonces arrive roughly in ts order; those older than the window cannot be
        # replayed anyway (their ts would be refused).
        while self._seen:
            nonce, at = next(iter(self._seen.items()))
            if at >= oldest:
                break
            del self._seen[nonce]


def _time(text: object) -> datetime:
    if not isinstance(text, str) or len(text) > 40:
        raise Unauthenticated("ts must be an RFC 3339 time (e.g. 2026-01-05T09:00:00Z)")
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise Unauthenticated(f"ts is not an RFC 3339 time: {text!r}") from None
    if at.tzinfo is None:
        raise Unauthenticated(f"ts has no time zone: {text!r}")
    return at.astimezone(UTC)
