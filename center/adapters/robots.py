"""What the DingTalk and WeCom group robots share: a JSON message POSTed to the
robot's webhook, and their answer, which is HTTP 200 with ``{"errcode": 0, "errmsg":
"ok"}`` when the message was taken and ``errcode`` other than 0 (also with HTTP 200)
when it was not: a bad signature, a message refused, a robot sending too fast (both
take 20 messages a minute). Either is a failed attempt, retried.
"""

from __future__ import annotations

import json
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
