"""The status page and the pre-visit report of the demo site (simulators/fleets/demo.yaml:
16 cameras on an NVR read over ISAPI, a 24-port Huawei core switch, an Asterisk PBX over
AMI, a UPS, a panel over DC-09), polled by a real `lvgw run`, read in headless Chromium
at a phone's width (390 px) and a desktop's (1280 px).

The summaries show the simulated site's true figures (16/16 cameras, then 15/16 once a
camera loses its video), the device pages their tables, and no page is wider than the
screen. With LVGW_SCREENSHOTS=DIR (``make screenshots``: docs/images) the screenshots of
the overview, the NVR's and the core switch's pages and the report are kept there for
docs/status-page.md and docs/report.md.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cdp import Page, chromium_page
from tests.e2e.test_center_e2e import start, stop
from tests.realservers import Mosquitto, free_port
from tests.simulators.conftest import SimFleet, fleet_with_site, free_port_on
from tests.views.png import read_png
from tests.views.test_status_page_browser import api_status

pytestmark = pytest.mark.e2e

DEMO_FLEET = Path(__file__).parents[2] / "simulators" / "fleets" / "demo.yaml"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
POLL = "2s"


def demo_fleet() -> str:
    """The demo fleet with every port it serves or sends to free on this machine."""
    doc: dict[str, Any] = yaml.safe_load(DEMO_FLEET.read_text())
    defaults = doc["defaults"]
    defaults["trap_receivers"] = [f"127.0.0.1:{free_port_on('127.0.0.1')}"]
    for device in doc["devices"]:
        if "sia" in device:  # it listens nowhere; the gateway's receiver must be free
            device["sia"]["receiver"] = f"127.0.0.1:{_free_both()}"
            continue
        kind = socket.SOCK_STREAM if "modbus" in device else socket.SOCK_DGRAM
        device["port"] = free_port_on(device["address"], kind)
        for api in ("isapi", "dahua", "ami"):
            if api in device:
                device[api]["port"] = free_port_on(device["address"], socket.SOCK_STREAM)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _free_both() -> int:
    """A port of 127.0.0.1 free for TCP and UDP (a DC-09 receiver takes both)."""
    while True:
        port = free_port_on("127.0.0.1", socket.SOCK_STREAM)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[SimFleet]:
    workdir = tmp_path / "fleet"
    with fleet_with_site(workdir, demo_fleet(), timeout=30) as (sim, _):
        yield sim


def site_file(written: Path, broker: Mosquitto, state: Path, status_port: int, locale: str) -> Path:
    doc = yaml.safe_load(written.read_text())
    doc["site"]["locale"] = locale
    doc["uplink"]["mqtt"] = {"host": broker.host, "port": broker.port}
    doc["agent"] = {"state_dir": str(state), "status_listen": f"127.0.0.1:{status_port}"}
    for device in doc["devices"]:
        device["interval"] = POLL
    path = written.with_name("site.pages.yaml")
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def all_read(status: dict[str, Any]) -> bool:
    """Every device answered and said what the summaries read (the NVR all 16 cameras)."""
    devices = {d["id"]: d for d in status["devices"]}
    cameras = devices["nvr-1"].get("meant", {}).get("camera.online", {})
    ports = devices["sw-core"].get("meant", {}).get("if.oper_status", {})
    return (
        all(d["reachable"] for d in devices.values() if d["kind"] != "alarm_panel")
        and len(cameras) == 16
        and len(ports) >= 24
        and "ups.charge" in devices["ups-1"].get("meant", {})
    )


async def shoot(page: Page, tmp: Path, name: str, locale: str) -> None:
    """Screenshots at both widths; the page never wider than the screen."""
    for label, (width, height) in WIDTHS.items():
        language = "" if locale == "en" else f"-{locale}"
        shot = tmp / f"status-{name}{language}-{label}.png"
        data = await page.screenshot(shot, width, height)
        wide = await page.eval("document.documentElement.scrollWidth")
        assert wide <= width, f"{name} is {wide} px wide at {width} px"
        image = read_png(data)
        assert (image.width, image.height) == (width, height)
        assert len(image.colours()) > 20 and image.luminance_variance() > 100  # not blank
        target = os.environ.get("LVGW_SCREENSHOTS")
        if target:
            shutil.copyfile(shot, Path(target) / shot.name)


def figure(device: str, key: str) -> str:
    return (
        f'(document.querySelector(\'tr[data-device="{device}"] [data-figure="{key}"]\')'
        " || {}).textContent"
    )


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
async def test_the_demo_site_at_a_glance_on_a_phone_and_a_desktop(
    tmp_path: Path, mosquitto: Mosquitto, demo: SimFleet, locale: str
) -> None:
    port = free_port()
    config = site_file(demo.workdir / "site.yaml", mosquitto, tmp_path / "state", port, locale)
    english = locale == "en"
    if not english:  # else Chinese text shows as empty boxes in the screenshots
        fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
        assert fonts.stdout.strip(), "no font with Chinese glyphs: make sysdeps installs one"
    log = tmp_path / "gateway.log"
    gateway = start(["gateway", "run", "-c", str(config)], log)
    base = f"http://127.0.0.1:{port}"
    try:
        await api_status(port, all_read, 90)
        async with chromium_page(tmp_path) as page:
            await page.goto(f"{base}/")
            # The overview: each device's true figures, by meaning, and its name.
            # In English word for word; in any language the figures (the words may be
            # translated).
            cameras = await page.until(figure("nvr-1", "cameras"))
            disks = await page.eval(figure("nvr-1", "disks"))
            trunks = await page.eval(figure("pbx-1", "trunks"))
            battery = await page.eval(figure("ups-1", "battery"))
            ports = await page.eval(figure("sw-core", "ports"))
            assert "16/16" in cameras and "4/4" in disks and "4/4" in trunks
            assert "100 %" in battery and "/24" in ports
            assert await page.eval(figure("ups-1", "power"))
            if not english:  # the site's language, from the catalog
                assert (cameras, disks, trunks) == ("摄像机 16/16", "硬盘 4/4 正常", "中继 4/4")
                assert await page.eval(figure("ups-1", "power")) == "市电供电"
                assert battery.startswith("电池 100 %，40 分钟")
                assert ports.startswith("端口在线 ")
            if english:
                assert (cameras, disks, trunks) == ("16/16 cameras", "disks 4/4 OK", "trunks 4/4")
                assert await page.eval(figure("ups-1", "power")) == "on mains"
                assert battery.startswith("battery 100 %, 40 min")
                assert ports.startswith("ports up ")
            names = await page.eval(
                "[...document.querySelectorAll('#devices tr.device td:nth-child(2)')]"
                ".map(td => td.textContent)"
            )
            assert all(names), names  # the names the devices give themselves
            assert "sys.uptime" not in await page.eval("document.body.innerText")
            await shoot(page, tmp_path, "overview", locale)

            await page.goto(f"{base}/device/nvr-1")
            assert (
                await page.until(
                    "document.querySelectorAll('table[data-table=camera] tbody tr').length"
                )
                == 16
            )
            assert (
                await page.eval(
                    "document.querySelectorAll('table[data-table=disk] tbody tr').length"
                )
                == 4
            )
            assert "16/16" in await page.eval("document.getElementById('summary').textContent")
            # Sorting by a header: the disks by free space, smallest first.
            await page.eval(
                "document.querySelectorAll('table[data-table=disk] th button')[3].click()"
            )
            free = await page.eval(
                "[...document.querySelectorAll('table[data-table=disk] tbody tr')]"
                ".map(r => parseFloat(r.cells[3].dataset.v))"
            )
            assert free == sorted(free)
            await shoot(page, tmp_path, "nvr", locale)

            await page.goto(f"{base}/device/sw-core")
            rows = await page.until(
                "document.querySelectorAll('table[data-table=if] tbody tr').length"
            )
            assert rows >= 24
            await shoot(page, tmp_path, "switch", locale)

            # A camera loses its video: the summary says so within a few polls.
            await asyncio.to_thread(demo.client.inject, "nvr-1", "camera_offline", {"channel": "3"})
            async with asyncio.timeout(60):
                while True:
                    await page.goto(f"{base}/")
                    cameras = await page.eval(figure("nvr-1", "cameras"))
                    if cameras.startswith("▲ ") and "15/16" in cameras:
                        break
                    await asyncio.sleep(1)
            state = await page.eval(
                "document.querySelector('tr[data-device=\"nvr-1\"] .st').dataset.state"
            )
            assert state == "degraded"

        # The pre-visit report of the same site, as HTML, in the browser.
        report = tmp_path / "report.html"
        done = subprocess.run(
            [sys.executable, "-m", "gateway", "report", "-c", str(config), "--format", "html",
             "--out", str(report)], capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        (tmp_path / "report-browser").mkdir()
        async with chromium_page(tmp_path / "report-browser") as page:
            await page.goto(report.as_uri())
            text = await page.eval("document.body.innerText")
            assert "15/16" in text
            await shoot(page, tmp_path, "report", locale)
    finally:
        stop(gateway, log)
