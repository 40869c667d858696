"""One device's HTTP(S) session with digest authentication, bounded in bytes and time.

aiohttp's ``DigestAuthMiddleware`` answers the device's ``401`` challenge (RFC 7616,
which keeps RFC 2617's MD5 for the devices that only know it) and retries the request
once: a wrong password costs two requests per poll, never a storm. The middleware
keeps the nonce and its count between requests, so a device that accepts its nonce
again answers the next request at once.

Failures are classified (``HttpError`` subclasses) so that a reader can say what went
wrong in words a technician acts on: credentials refused, certificate refused, no
answer in time, an error status, a body too large or not what was asked for.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp

MiB = 1024 * 1024


class HttpError(Exception):
    """A request that did not give a usable answer; ``kind`` names the class for people."""

    kind = "http error"


class HttpConnectError(HttpError):
    kind = "no connection"


class HttpTimeout(HttpError):
    kind = "timeout"


class HttpTlsError(HttpError):
    kind = "TLS error"


class HttpAuthError(HttpError):
    kind = "auth failed"


class HttpStatusError(HttpError):
    kind = "HTTP error status"

    def __init__(self, status: int, reason: str = "") -> None:
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status


class HttpTooLarge(HttpError):
    kind = "answer too large"


class HttpContentError(HttpError):
    """The body is not what the API sends: an HTML error page, malformed XML or text."""

    kind = "malformed answer"


class HttpErrorAnswer(HttpContentError):
    """The API's own error text in place of the document (often with status 200)."""

    kind = "error answer"


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """Where a device's API is and how to talk to it."""

    host: str
    port: int
    scheme: str = "http"  # "http" or "https"
    user: str = ""
    password: str = field(default="", repr=False)  # never printed
    verify_tls: bool = True
    ca_file: str | None = None  # a private CA (or the device's own certificate)
    timeout: float = 5.0  # seconds one request may take, from connect to last byte
    max_bytes: int = 1 * MiB  # the most one answer may carry

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def _tls(target: HttpTarget) -> ssl.SSLContext | bool:
    if target.scheme != "https":
        return True  # aiohttp's default; unused for plain HTTP
    if not target.verify_tls:
        return False
    return ssl.create_default_context(cafile=target.ca_file)


def _classify(exc: BaseException) -> HttpError:
    """aiohttp's and asyncio's exceptions -> one HttpError, message kept short."""
    if isinstance(exc, HttpError):
        return exc
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return HttpTlsError(str(exc) or type(exc).__name__)
    if isinstance(exc, ssl.SSLError):
        return HttpTlsError(exc.reason or str(exc))
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return HttpTimeout("no complete answer in time")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return HttpContentError(f"broken body: {exc}")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return HttpConnectError(str(exc) or type(exc).__name__)
    return HttpError(f"{type(exc).__name__}: {exc}")


async def read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, refused past ``limit`` bytes (a device picks its length)."""
    if response.content_length is not None and response.content_length > limit:
        raise HttpTooLarge(f"answer of {response.content_length} bytes, more than {limit}")
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > limit:
            raise HttpTooLarge(f"answer of more than {limit} bytes")
    return bytes(body)


def _check_status(response: aiohttp.ClientResponse) -> None:
    if response.status in (401, 403):
        raise HttpAuthError(f"HTTP {response.status}: the device refused the credentials")
    if response.status >= 300:
        raise HttpStatusError(response.status, response.reason or "")


class HttpDevice:
    """The HTTP session of one device (its digest state, its connection pool of one)."""

    def __init__(self, target: HttpTarget) -> None:
        self.target = target
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            middlewares: tuple[aiohttp.DigestAuthMiddleware, ...] = ()
            if self.target.user:
                digest = aiohttp.DigestAuthMiddleware(self.target.user, self.target.password)
                middlewares = (digest,)
            self._session = aiohttp.ClientSession(
                base_url=self.target.origin,
                connector=aiohttp.TCPConnector(limit=2, ssl=_tls(self.target)),
                middlewares=middlewares,
                raise_for_status=False,
                auto_decompress=False,  # a small compressed bomb must not grow past max_bytes
                headers={"Accept-Encoding": "identity"},
            )
        return self._session

    async def get(self, path: str) -> bytes:
        """GET ``path`` (with its query); the body, or an HttpError."""
        timeout = aiohttp.ClientTimeout(total=self.target.timeout)
        try:
            async with self._open().get(path, timeout=timeout, allow_redirects=False) as response:
                _check_status(response)
                return await read_bounded(response, self.target.max_bytes)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise _classify(exc) from exc

    @asynccontextmanager
    async def stream(self, path: str, idle: float) -> AsyncIterator[aiohttp.ClientResponse]:
        """GET ``path`` and hold the answer open (an event stream); no total deadline,
        but the connection must be made within the target's timeout and some bytes
        must arrive every ``idle`` seconds (devices send heartbeats)."""
        timeout = aiohttp.ClientTimeout(total=None, connect=self.target.timeout, sock_read=idle)
        try:
            async with self._open().get(path, timeout=timeout, allow_redirects=False) as response:
                _check_status(response)
                yield response
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise _classify(exc) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
