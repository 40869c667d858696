"""The ``wecom`` adapter: each ticket event as a markdown message to a WeCom (WeChat
Work) group robot.

The message, as WeCom's group robot documentation gives it (群机器人配置说明,
https://developer.work.weixin.qq.com/document/path/91770): ``{"msgtype": "markdown",
"markdown": {"content": ...}}``, the content at most 4096 bytes of UTF-8. The robot
is named by the ``key`` in its webhook URL; there is no signature.
"""

from __future__ import annotations

from center.adapters.http import HttpClient
from center.adapters.robots import Pace, post_message, text_of
from center.adapters.text import markdown
from center.config import WeCom
from center.ledger import Delivery

MAX_CONTENT_BYTES = 4096  # "markdown内容,最长不超过4096个字节,必须是utf8编码"


class WeComAdapter:
    def __init__(self, settings: WeCom) -> None:
        self.name = settings.name
        self.settings = settings
        self._url = settings.robot_url()
        self._http = HttpClient(settings.timeout)
        self._pace = Pace(settings.per_minute)

    async def send(self, delivery: Delivery) -> None:
        text = text_of(delivery)
        content = markdown(text, line_break="\n", limit=MAX_CONTENT_BYTES)
        await self._pace.wait()
        await post_message(self._http, self._url, {"msgtype": "markdown",
                                                   "markdown": {"content": content}})  # fmt: skip

    async def maintain(self) -> None:
        return None

    async def close(self) -> None:
        await self._http.close()
