"""The status page in a real headless browser (Debian's chromium), served by a real
`lvgw run` polling net-snmp's snmpd as its core switch, with mosquitto as the broker."""

from __future__ import annotations

import asyncio
import html
import json
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.lvgw import lvgw_run
from tests.realservers import Mosquitto, Snmpd, free_port, which
from tests.views.conftest import http, write_history, write_site
from tests.views.png import read_png

pytestmark = pytest.mark.integration

WIDTH, HEIGHT = 1280, 900


async def chromium(tmp: Path, url: str, *args: str) -> bytes:
    """Run headless chromium on ``url``; its standard output."""
    proc = await asyncio.create_subprocess_exec(
        which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp / 'chromium-profile'}",
        f"--window-size={WIDTH},{HEIGHT}", *args, url,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out


async def api_status(port: int, ready: Any, timeout: float = 20) -> dict[str, Any]:
    """`/api/status` until ``ready(status)``: the agent rewrites its snapshot every 5 s."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                answer = await http(port, "/api/status")
            except OSError:
                answer = None  # not listening yet
            if answer is not None and answer.status == 200:
                status: dict[str, Any] = json.loads(answer.body)
                if ready(status):
                    return status
            await asyncio.sleep(0.25)


async def test_chromium_shows_the_open_ticket_and_a_screenshot_of_the_site(
    tmp_path: Path, mosquitto: Mosquitto, snmpd: Snmpd
) -> None:
    port = free_port()
    config = write_site(
        tmp_path / "site", f"  status_listen: 127.0.0.1:{port}",
        snmp_port=snmpd.port, mqtt_port=mosquitto.port, interval="0.5s",
    )  # fmt: skip
    write_history(tmp_path / "site" / "state", datetime.now(UTC))
    gateway = lvgw_run(config)
    try:
        await api_status(port, lambda s: s["devices"][0]["reachable"] is True)
        snmpd.kill()
        status = await api_status(
            port, lambda s: any(t["device"] == "sw-core" for t in s["open_tickets"])
        )
        ticket = next(t for t in status["open_tickets"] if t["device"] == "sw-core")
        base = f"http://127.0.0.1:{port}"

        dom = (await chromium(tmp_path, f"{base}/", "--dump-dom")).decode()
        assert f'data-ticket="{ticket["ticket_id"]}"' in dom
        # The title names the device by its (hostile) name: shown as text, never as markup.
        assert "<script>alert" in ticket["title"]
        assert html.escape(ticket["title"], quote=False) in dom
        assert '<tr class="device row1 down" data-device="sw-core">' in dom
        # The countdowns were rendered and ticked by the page's own script.
        assert f'data-due="{ticket["response_due"]}">in ' in dom

        device = (await chromium(tmp_path, f"{base}/device/sw-core", "--dump-dom")).decode()
        assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; \"Lobby\" &lt;img" in device
        assert "<img" not in device and "onerror" not in device.replace("onerror=alert", "")
        assert device.count('<svg class="chart"') >= 2  # 24 h and 7 d
        assert "<polyline" in device

        shot = tmp_path / "status.png"
        await chromium(tmp_path, f"{base}/", f"--screenshot={shot}")
        image = read_png(shot.read_bytes())
        assert (image.width, image.height) == (WIDTH, HEIGHT)
        colours = image.colours()
        assert len(colours) > 20  # text, badges, rows: not a blank page
        assert image.luminance_variance() > 100
        # The level-1 badge's red is on screen.
        assert any(
            abs(r - 0xC6) < 8 and abs(g - 0x28) < 8 and abs(b - 0x28) < 8 for r, g, b in colours
        )

        gateway.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(gateway.wait, 15) == 0
    finally:
        if gateway.poll() is None:
            gateway.kill()
        output = gateway.communicate(timeout=10)[0].decode()
    assert f"status page on http://127.0.0.1:{port}/" in output
    assert "Traceback" not in output, output
