"""HTTP digest authentication, the server side, from RFC 7616 (with RFC 2617's MD5).

The challenge is the one recorders send: ``qop="auth"``, one algorithm (MD5 by
default, as Hikvision and Dahua firmware do; SHA-256 on request), a nonce that the
server can check without remembering it (its time and an HMAC of it) and that
expires (``stale=true`` then, so a client retries without asking its user again).
A nonce count already used with that nonce is a replay and is refused (counts may
arrive out of order: a client's event stream and its polls share one nonce).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time
from collections import OrderedDict

NONCE_LIFETIME = 300.0  # seconds
MAX_NONCES = 1024  # nonces whose counts are remembered (oldest forgotten first)
MAX_COUNTS = 4096  # requests one nonce may sign
_PARAM = re.compile(r'([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def _h(algorithm: str, text: str) -> str:
    return _HASHES[algorithm](text.encode("utf-8")).hexdigest()


def parse_params(header: str) -> dict[str, str]:
    """The ``name=value`` pairs of a Digest header (values unquoted)."""
    return {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PARAM.finditer(header)
    }


class DigestGuard:
    def __init__(self, realm: str, user: str, password: str, algorithm: str = "MD5") -> None:
        if algorithm not in _HASHES:
            raise ValueError(f"digest algorithm {algorithm!r}: one of {sorted(_HASHES)}")
        self.realm = realm
        self.user = user
        self.password = password
        self.algorithm = algorithm
        self.key = os.urandom(16)
        self.opaque = os.urandom(8).hex()
        self.counts: OrderedDict[str, set[int]] = OrderedDict()

    def _nonce(self, issued: float, salt: str | None = None) -> str:
        """Issue time, a random salt (each challenge its own nonce) and their HMAC."""
        stamp = f"{int(issued)}:{salt or os.urandom(6).hex()}"
        mac = hmac.new(self.key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return base64.b64encode(f"{stamp}:{mac}".encode()).decode()

    def _nonce_age(self, nonce: str) -> float | None:
        """Seconds since the nonce was issued, None when it is not one of ours."""
        try:
            stamp, salt, _ = base64.b64decode(nonce, validate=True).decode().split(":")
            issued = float(int(stamp))
        except (ValueError, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(self._nonce(issued, salt).encode(), nonce.encode()):
            return None
        return time.time() - issued

    def challenge(self, stale: bool = False) -> str:
        return (
            f'Digest realm="{self.realm}", qop="auth", algorithm={self.algorithm}, '
            f'nonce="{self._nonce(time.time())}", opaque="{self.opaque}", '
            f"stale={'true' if stale else 'false'}"
        )

    def check(self, method: str, uri: str, header: str | None) -> str:
        """ "ok", "stale" (right answer, old nonce) or "denied"."""
        if not header or not header[:7].lower().startswith("digest "):
            return "denied"
        p = parse_params(header[7:])
        algorithm = p.get("algorithm", "MD5").upper().replace("SHA256", "SHA-256")
        if (
            p.get("username") != self.user
            or p.get("realm") != self.realm
            or p.get("uri") != uri
            or algorithm not in (self.algorithm, self.algorithm + "-SESS")
        ):
            return "denied"
        nonce, cnonce, nc, qop = (
            p.get("nonce", ""),
            p.get("cnonce", ""),
            p.get("nc", ""),
            p.get("qop"),
        )
        age = self._nonce_age(nonce)
        if age is None:
            return "denied"
        base = algorithm.removesuffix("-SESS")
        ha1 = _h(base, f"{self.user}:{self.realm}:{self.password}")
        if algorithm.endswith("-SESS"):
            ha1 = _h(base, f"{ha1}:{nonce}:{cnonce}")
        ha2 = _h(base, f"{method}:{uri}")
        if qop == "auth":
            expected = _h(base, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        elif qop is None:
            expected = _h(base, f"{ha1}:{nonce}:{ha2}")
        else:
            return "denied"  # auth-int: bodies are not hashed here; no GET needs it
        if not hmac.compare_digest(expected, p.get("response", "")):
            return "denied"
        if age > NONCE_LIFETIME:
            return "stale"
        if qop == "auth" and not self._count_is_new(nonce, nc):
            return "denied"
        return "ok"

    def _count_is_new(self, nonce: str, nc: str) -> bool:
        try:
            count = int(nc, 16)
        except ValueError:
            return False
        seen = self.counts.setdefault(nonce, set())
        if count in seen or len(seen) >= MAX_COUNTS:
            return False  # replayed, or a nonce used too often: the client takes a new one
        seen.add(count)
        self.counts.move_to_end(nonce)
        while len(self.counts) > MAX_NONCES:
            self.counts.popitem(last=False)
        return True
