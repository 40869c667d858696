"""One aiohttp client session per adapter, made on first use, and a POST whose answer
is read bounded: what the HTTP adapters (webhook, alertmanager, dingtalk, wecom) share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from center.adapters import DeliveryError

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


class HttpClient:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def post(self, url: Any, data: bytes, headers: dict[str, str]) -> Answer:
        """POST ``data``; redirects are not followed. A connection that fails or no
        answer within the timeout is a DeliveryError."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
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
