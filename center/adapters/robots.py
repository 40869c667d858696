"""What the DingTalk and WeCom group robots share: a JSON message POSTed to the
robot's webhook, and their answer, which is HTTP 200 with ``{"errcode": 0, "errmsg":
"ok"}`` when the message was taken and ``errcode`` other than 0 (also with HTTP 200)
when it was not: a bad signature, a message refused, a robot sending too fast (both
take 20 messages a minute). Either is a failed attempt, retried.

Both robots take 20 messages a minute: `Pace` keeps an adapter within its robot's
``per_minute``, so a storm of tickets goes out at the robot's pace instead of being
refused and retried.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from center.adapters import DeliveryError
from center.adapters.http import HttpClient
from center.adapters.text import TicketText, describe
from center.ledger import Delivery

HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def text_of(delivery: Delivery) -> TicketText:
    return describe(json.loads(delivery.payload))


async def post_message(http: HttpClient, url: Any, message: dict[str, Any]) -> None:
    body = json.dumps(message, ensure_ascii=False).encode()
    answer = await http.post(url, body, HEADERS)
    if not answer.ok:
        raise answer.failure()
    try:
        said = json.loads(answer.body)
    except ValueError:
        raise DeliveryError(f"HTTP {answer.status} without a JSON answer") from None
    errcode = said.get("errcode") if isinstance(said, dict) else None
    if errcode != 0:
        errmsg = said.get("errmsg") if isinstance(said, dict) else None
        raise DeliveryError(f"errcode {errcode}: {str(errmsg)[:200]}")


class Pace:
    """At most ``count`` sends in any ``window`` seconds: `wait` returns when the next
    may go (every attempt counts, taken or not: the robot counts what it receives)."""

    def __init__(
        self,
        count: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.count, self.window = count, window
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque()

    async def wait(self) -> None:
        while True:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            if len(self._sent) < self.count:
                self._sent.append(now)
                return
            await self._sleep(self._sent[0] + self.window - now)
