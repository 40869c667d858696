"""One aiohttp client session per adapter, made on first use, and a POST whose answer
is read bounded: what the HTTP adapters (webhook, alertmanager, dingtalk, wecom) share."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import aiohttp

from center.adapters import DeliveryError
from gateway.config.site import Tls

MAX_ANSWER_BYTES = 64 * 1024  # an answer is a status and a line of JSON; more is cut


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    reason: str
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def failure(self) -> DeliveryError:
        return DeliveryError(f"HTTP {self.status} {self.reason}".strip())


def tls_context(tls: Tls | None) -> ssl.SSLContext | None:
    """The client's TLS settings for https: None (the system's CAs) without ``tls``."""
    if tls is None:
        return None
    context = ssl.create_default_context(cafile=tls.ca)
    if tls.cert is not None and tls.key is not None:
        context.load_cert_chain(tls.cert, tls.key)
    return context


class HttpClient:
    def __init__(self, timeout: float, tls: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self.tls = tls
        self._session: aiohttp.ClientSession | None = None

    async def post(self, url: Any, data: bytes, headers: dict[str, str]) -> Answer:
        """POST ``data``; redirects are not followed. A connection that fails or no
        answer within the timeout is a DeliveryError."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(ssl=self.tls if self.tls is not None else True),
            )
        try:
            async with self._session.post(
                url, data=data, headers=headers, allow_redirects=False
            ) as response:
                body = await response.content.read(MAX_ANSWER_BYTES)
                return Answer(response.status, response.reason or "", body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
