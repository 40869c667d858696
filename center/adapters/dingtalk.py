"""The ``dingtalk`` adapter: each ticket event as a markdown message to a DingTalk
group's custom robot.

The message, as DingTalk's custom robot documentation gives it (message types and
data format, https://open.dingtalk.com/document/robots/message-types-and-data-format):
``{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}``; the title is
what the conversation list shows.

A robot whose security setting is signing (加签) takes a message only on a signed URL
(https://open.dingtalk.com/document/robots/customize-robot-security-settings): the
webhook URL plus ``&timestamp=<ms>&sign=<sign>``, where sign is the HMAC-SHA256 of
``timestamp + "\\n" + secret`` keyed with the secret (both UTF-8), Base64-encoded,
then URL-encoded. The timestamp must be within an hour of DingTalk's clock, so each
attempt signs anew.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

from yarl import URL

from center.adapters.http import HttpClient
from center.adapters.robots import Pace, post_message, text_of
from center.adapters.text import markdown
from center.config import DingTalk
from center.ledger import Delivery

# DingTalk states no byte limit for a markdown message that a ticket comes near; a
# ticket's text is kept to this so a storm's long device list stays readable.
MAX_TEXT_BYTES = 4096


def sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` parameter, URL-encoded as DingTalk's documentation says."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str, timestamp_ms: int) -> URL:
    joiner = "&" if "?" in url else "?"
    # encoded=True: the URL goes out as written, the sign's %2B and %2F left as they are.
    return URL(f"{url}{joiner}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}",
               encoded=True)  # fmt: skip


class DingTalkAdapter:
    def __init__(self, settings: DingTalk) -> None:
        self.name = settings.name
        self.settings = settings
        self._url = settings.robot_url()
        self._secret = settings.secret()
        self._http = HttpClient(settings.timeout)
        self._pace = Pace(settings.per_minute)

    async def send(self, delivery: Delivery) -> None:
        text = text_of(delivery)
        message = {
            "msgtype": "markdown",
            # DingTalk's markdown starts a new line only after a blank one.
            "markdown": {
                "title": text.subject,
                "text": markdown(text, line_break="\n\n", limit=MAX_TEXT_BYTES),
            },
        }
        await self._pace.wait()
        url: str | URL = self._url
        if self._secret is not None:
            url = signed_url(self._url, self._secret, round(time.time() * 1000))
        await post_message(self._http, url, message)

    async def maintain(self) -> None:
        return None

    async def close(self) -> None:
        await self._http.close()
