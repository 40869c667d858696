"""Debian's Chromium driven headless through the DevTools protocol, over aiohttp's
WebSocket client: enough to sign in, click, read the page and take screenshots.

Chromium is started with ``--remote-debugging-port=0`` (it picks a free port and
writes it to ``DevToolsActivePort`` in its profile directory, so parallel runs never
collide); the test talks to its one page (https://chromedevtools.github.io/devtools-protocol/).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.realservers import which


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call = next(self._ids)
        await self.ws.send_json({"id": call, "method": method, "params": params})
        async with asyncio.timeout(30):
            while True:
                message = json.loads((await self.ws.receive()).data)
                if message.get("id") == call:
                    if "error" in message:
                        raise RuntimeError(f"{method}: {message['error']}")
                    result: dict[str, Any] = message.get("result", {})
                    return result

    async def eval(self, expression: str) -> Any:
        answer = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def until(self, expression: str, timeout: float = 20) -> Any:
        """The value of ``expression`` once it is truthy (the page may be loading)."""
        async with asyncio.timeout(timeout):
            while True:
                try:
                    value = await self.eval(expression)
                except RuntimeError:
                    value = None  # navigating: the context went away
                if value:
                    return value
                await asyncio.sleep(0.2)

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await self.until("document.readyState === 'complete' && location.href !== 'about:blank'")

    async def click(self, selector: str) -> None:
        """Click ``selector`` and wait until the page it leads to has loaded."""
        await self.eval("window.__before = 1")
        await self.eval(f"document.querySelector({json.dumps(selector)}).click()")
        await self.until("window.__before === undefined && document.readyState === 'complete'")

    async def screenshot(self, path: Path, width: int = 1280, height: int = 900) -> bytes:
        await self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=False)  # fmt: skip
        shot = await self.send("Page.captureScreenshot", format="png")
        data = base64.b64decode(shot["data"])
        await asyncio.to_thread(path.write_bytes, data)
        return data

    async def cookies(self) -> dict[str, str]:
        found = await self.send("Network.getCookies")
        return {c["name"]: c["value"] for c in found["cookies"]}


@asynccontextmanager
async def chromium_page(tmp: Path) -> AsyncIterator[Page]:
    profile = tmp / "cdp-profile"
    profile.mkdir()
    args = [which("chromium"), "--headless", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"]  # fmt: skip
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")
    log = (tmp / "chromium.log").open("wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        active = profile / "DevToolsActivePort"
        async with asyncio.timeout(30):
            while not (active.exists() and len(active.read_text().splitlines()) >= 2):
                assert proc.poll() is None, (tmp / "chromium.log").read_text()
                await asyncio.sleep(0.1)
        port = int(active.read_text().splitlines()[0])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as answer:
                targets = await answer.json()
            (page,) = [t for t in targets if t["type"] == "page"]
            async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                yield Page(ws)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
