"""The center's web app end to end in a real headless Chromium (Debian's, driven over
the DevTools protocol: tests/cdp.py): a simulated site -> `lvgw run` (with a command
key) -> mosquitto -> `lvgw-center run` with web.users_file. A technician signs in,
sees the switch's ticket appear on the board, acknowledges it with the button, and
the gateway's next event carries the acknowledgement; the site's page shows its
devices' health and fetches the pre-visit report over the broker within 10 s, as
HTML and PDF; a customer account of another customer gets 403 for the site by URL.

With LVGW_SCREENSHOTS=DIR (``make screenshots``: docs/images) the screenshots of the
board, the site and the monthly report are written there for docs/center.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from center.ledger import Ledger
from tests.cdp import Page, chromium_page
from tests.e2e.test_center_e2e import (
    COMMAND_KEY,
    SITE,
    center_and_gateway,
    secret,
    site_file,
)
from tests.e2e.test_center_e2e import fleet as fleet  # a fixture
from tests.realservers import Mosquitto, free_port, wait_until, which
from tests.simulators.conftest import SimFleet
from tests.views.png import read_png

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
CUSTOMER = "Simulated customer"  # lvgw-sim's site file


def users(tmp: Path) -> Path:
    path = tmp / "users.yaml"
    for name, role, customer in [("tom", "technician", None), ("other", "customer", "Other Co"),
                                 ("sim", "customer", CUSTOMER)]:  # fmt: skip
        extra = ["--customer", customer] if customer else []
        subprocess.run(
            [sys.executable, "-m", "center", "user", "add", name, "--role", role, *extra,
             "-f", str(path)], input=PASSWORD + "\n", text=True, check=True, capture_output=True,
        )  # fmt: skip
    return path


def center_yaml(tmp: Path, broker: Mosquitto, key: Path, web_port: int) -> Path:
    path = tmp / "center.yaml"
    path.write_text(
        f"broker: {{host: {broker.host}, port: {broker.port}, client_id: center-web-e2e}}\n"
        f"database: sqlite:///{tmp}/center.db\n"
        f"sites: [{{id: {SITE}, command_key_file: {key}}}]\n"
        f"web: {{listen: '127.0.0.1:{web_port}', users_file: {users(tmp)}}}\n"
    )
    return path


async def sign_in(page: Page, base: str, name: str, next_path: str) -> None:
    await page.goto(f"{base}/login?next={next_path}")
    await page.eval(f"document.querySelector('input[name=name]').value = {json.dumps(name)}")
    await page.eval(f"document.querySelector('input[name=password]').value = '{PASSWORD}'")
    await page.click("form.login button")


def keep(shot: Path, data: bytes) -> None:
    image = read_png(data)
    assert len(image.colours()) > 20 and image.luminance_variance() > 100  # not blank
    target = os.environ.get("LVGW_SCREENSHOTS")
    if target:
        shutil.copyfile(shot, Path(target) / shot.name)


async def test_a_technician_acknowledges_from_the_board_and_reads_the_report(
    tmp_path: Path, mosquitto: Mosquitto, fleet: SimFleet
) -> None:
    key = secret(tmp_path / "command.key", COMMAND_KEY)
    config = site_file(fleet.workdir / "site.yaml", mosquitto, tmp_path / "state", key)
    web_port = free_port()
    center_config = center_yaml(tmp_path, mosquitto, key, web_port)
    center_log = tmp_path / "center.log"
    base = f"http://127.0.0.1:{web_port}"
    async with center_and_gateway(center_config, config, tmp_path), chromium_page(tmp_path) as page:
        await sign_in(page, base, "tom", "/board")
        assert await page.eval("location.pathname") == "/board"
        assert await page.eval("document.getElementById('no-tickets') !== null")

        # The switch goes down: its ticket appears on the board.
        await asyncio.to_thread(fleet.client.inject, "sw-core", "down", {})
        async with asyncio.timeout(40):
            while not await page.eval("document.querySelector('tr.ticket') !== null"):
                await asyncio.sleep(0.5)
                await page.goto(f"{base}/board")
        ticket = await page.eval("document.querySelector('tr.ticket').dataset.ticket")
        assert await page.eval("document.querySelector('tr.ticket .response .due')"
                               ".textContent.startsWith('in ')")  # fmt: skip

        # Acknowledge: taken by the gateway (signed with the site's key).
        await page.click(f"tr[data-ticket='{ticket}'] button[value=ack]")
        flash = await page.eval("document.getElementById('flash').textContent")
        assert f"ticket {ticket} (site {SITE}): acknowledgement by tom taken by the" \
            " gateway (signed)" in flash  # fmt: skip
        keep(shot := tmp_path / "center-board.png", await page.screenshot(shot))

        # The site's page: health (once the gateway published it) and the ticket.
        await page.goto(f"{base}/sites/{SITE}")
        async with asyncio.timeout(90):
            while not await page.eval("document.querySelector('tr.device') !== null"):
                await asyncio.sleep(1)
                await page.goto(f"{base}/sites/{SITE}")
        assert await page.eval("document.querySelector(\"tr[data-device='sw-core'] .state\")"
                               ".textContent") == "down"  # fmt: skip
        keep(shot := tmp_path / "center-site.png", await page.screenshot(shot))

        # The pre-visit report, asked of the gateway now: within 10 s.
        began = time.monotonic()
        await page.click("#get-report")
        await page.until("document.getElementById('report') !== null"
                         " && document.getElementById('report').contentDocument"
                         " && document.getElementById('report').contentDocument.body"
                         " && document.getElementById('report').contentDocument.body"
                         ".innerText.includes('sw-core')")  # fmt: skip
        took = time.monotonic() - began
        assert took < 10, f"the report took {took:.1f} s"
        cookies = await page.cookies()
        async with aiohttp.ClientSession(cookies=cookies) as session:
            async with session.get(f"{base}/sites/{SITE}/report.pdf") as answer:
                assert answer.status == 200, await answer.text()
                pdf = await answer.read()
            async with session.get(f"{base}/sites/{SITE}/report.html?download=1") as answer:
                assert answer.headers["Content-Disposition"].startswith("attachment")
                assert "sw-core" in await answer.text()
        (tmp_path / "report.pdf").write_bytes(pdf)
        text = subprocess.run([which("pdftotext"), str(tmp_path / "report.pdf"), "-"],
                              capture_output=True, check=True).stdout.decode()  # fmt: skip
        assert "sw-core" in text
        subprocess.run([which("pdftoppm"), "-png", "-r", "40", "-f", "1", "-l", "1",
                        str(tmp_path / "report.pdf"), str(tmp_path / "report")],
                       check=True)  # fmt: skip
        (png,) = await asyncio.to_thread(lambda: list(tmp_path.glob("report*.png")))
        assert len(read_png(await asyncio.to_thread(png.read_bytes)).colours()) > 5

        # The gateway's next event (the resolve, once the switch is back) carries it.
        await asyncio.to_thread(fleet.client.clear, "sw-core", "down", {})
        db = tmp_path / "center.db"

        def acknowledged() -> bool:
            ledger = Ledger.open(db, read_only=True)
            try:
                event = ledger.last_events(site=SITE).get(ticket) or {}
            finally:
                ledger.close()
            return event.get("event") == "resolve" and (
                (event.get("acknowledged") or {}).get("by") == "tom"
            )

        await asyncio.to_thread(wait_until, acknowledged, 60, "the resolve with the ack")
        await page.goto(f"{base}/sites/{SITE}")
        row = f"document.querySelector(\"tr[data-ticket='{ticket}']\").textContent"
        assert "resolved" in await page.eval(row) and "on time" in await page.eval(row)

        # The customer's monthly report, as the customer sees it.
        await page.click("nav button")  # sign out
        await sign_in(page, base, "sim", "/fleet")
        month = datetime.now(UTC).strftime("%Y-%m")
        await page.goto(f"{base}/customers/Simulated%20customer/monthly?month={month}")
        assert ticket in await page.eval("document.getElementById('incidents').textContent")
        keep(shot := tmp_path / "center-monthly.png", await page.screenshot(shot))

        # Another customer's account: 403 for this site, by URL.
        await page.click("nav button")
        await sign_in(page, base, "other", "/fleet")
        await page.goto(f"{base}/sites/{SITE}")
        assert "403" in await page.eval("document.body.innerText")
        async with (
            aiohttp.ClientSession(cookies=await page.cookies()) as session,
            session.get(f"{base}/sites/{SITE}") as answer,
        ):
            assert answer.status == 403
    assert "Traceback" not in center_log.read_text()
