"""The status page over real TCP: pages, escaping, charts, the API, tokens, refusals."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from gateway.config import ConfigError, load_config
from gateway.metrics.store.history import StoreHistory
from gateway.views.statuspage import StatusPage, StatusPageError
from tests.realservers import free_port
from tests.views.conftest import HOSTILE, NOW, http, status_snapshot, write_history, write_site

TOKEN = "s3cret-token-0123456789"


@pytest.fixture
async def page_factory(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[StatusPage]]]:
    started: list[StatusPage] = []
    histories: list[StoreHistory] = []

    async def make(extra_agent: str = "", listen: str | None = None) -> StatusPage:
        config = load_config(write_site(tmp_path / "site", extra_agent))
        state_dir = config.site_file.agent.state_dir
        write_history(state_dir)
        data = status_snapshot(config)
        history = StoreHistory.in_state_dir(state_dir)
        histories.append(history)
        page = StatusPage(
            config, lambda: data, history, listen=listen or f"127.0.0.1:{free_port()}",
            clock=lambda: NOW,
        )  # fmt: skip
        await page.start()
        started.append(page)
        return page

    yield make
    for page in started:
        await page.close()
    for history in histories:
        await history.close()


@pytest.mark.integration
async def test_overview_shows_devices_by_level_and_tickets_with_countdowns(
    page_factory: Callable[..., Awaitable[StatusPage]],
) -> None:
    page = await page_factory()
    answer = await http(page.port, "/")
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    html = answer.text
    # The ticket row: level 1, counting down to the response deadline (10 min from
    # the fault, 4 min ago) and to the on-site deadline (2 h).
    row = re.search(r'<tr class="ticket row1" data-ticket="([^"]+)">(.*?)</tr>', html)
    assert row is not None
    assert row.group(1).startswith("site-view-20261120-092600-")
    assert 'data-due="2026-11-20T09:36:00.000Z">in 6m00s<' in row.group(2)
    assert 'data-due="2026-11-20T11:26:00.000Z">in 1h56m<' in row.group(2)
    # Devices coloured by their worst open level; the UPS has none.
    assert '<tr class="device row1 down" data-device="sw-core">' in html
    assert '<tr class="device row0" data-device="ups-1">' in html
    # Each device's headline figures, by its profile's meanings: no raw point names.
    assert '<span class="fig ok" data-figure="battery">battery 97 %</span>' in html
    assert "ups.charge" not in html
    assert "status of 2026-11-20 09:30 UTC" in html  # a site without a zone: UTC, said so
    assert '<span class="st down" data-state="down">✖ down</span>' in html
    assert '<span class="fig down" data-figure="reach">✖ not answering</span>' in html
    assert "Riverside &lt;Office&gt; Park" in html


@pytest.mark.integration
async def test_hostile_names_are_escaped_everywhere(
    page_factory: Callable[..., Awaitable[StatusPage]],
) -> None:
    page = await page_factory()
    for path in ("/", "/device/sw-core"):
        html = (await http(page.port, path)).text
        assert HOSTILE not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;Lobby&quot;" in html
        assert "<img" not in html
        assert html.count("<script>") == 1  # ours, whose hash the policy names
    api = await http(page.port, "/api/status")
    assert api.headers["content-type"] == "application/json"
    data = json.loads(api.body)
    assert data["devices"][0]["name"] == HOSTILE  # JSON carries the text as it is
    assert data["open_tickets"][0]["severity"] == 1
    assert data["agent_state"].startswith(("running", "stopped"))


@pytest.mark.integration
async def test_device_page_charts_what_is_worth_a_chart_titled_above_with_units(
    page_factory: Callable[..., Awaitable[StatusPage]],
) -> None:
    page = await page_factory()
    html = (await http(page.port, "/device/ups-1")).text
    # The summary first, then charts of the last 24 hours, each titled above with its unit.
    assert '<p id="summary"><span class="st ok" data-state="ok">✓ OK</span>' in html
    assert "<strong>Last 24 hours</strong>" in html
    assert '<a href="/device/ups-1?range=7d">Last 7 days</a>' in html
    titles = re.findall(r'<figure class="chart-box"><h3>([^<]+)</h3>(?:<ul|<svg)', html)
    assert titles == ["Battery charge, %", "Battery voltage, V"]
    assert len(re.findall(r"<svg class=\"chart\"", html)) == 2
    # Raw point names only in the details.
    assert html.index("ups.battery_voltage") > html.index('<details id="details">')
    week = (await http(page.port, "/device/ups-1?range=7d")).text
    assert "<strong>Last 7 days</strong>" in week
    voltage = next(c for c in re.findall(r"<svg class=\"chart\".*?</svg>", week)
                   if "Battery voltage" in c)  # fmt: skip
    points = re.search(r'<polyline points="([^"]+)"', voltage)
    assert points is not None
    assert len(points.group(1).split()) >= 160  # hourly over the week
    assert "11-1" in voltage  # days on the time axis
    sw = (await http(page.port, "/device/sw-core")).text
    errors = next(c for c in re.findall(r'<figure class="chart-box">.*?</figure>', sw)
                  if "<h3>Errors, /s</h3>" in c)  # fmt: skip
    assert errors.count("<polyline") == 2  # one line per port, told apart by a legend
    assert re.findall(r'<li><svg class="swatch".*?</svg> ([^<]+)</li>', errors) == ["1", "2"]
    assert 'stroke-dasharray="6 3"' in errors  # the second line differs without colour too
    assert "no data in this range" not in errors


@pytest.mark.integration
async def test_unknown_pages_and_writes_are_refused(
    page_factory: Callable[..., Awaitable[StatusPage]],
) -> None:
    page = await page_factory()
    assert (await http(page.port, "/device/nope")).status == 404
    assert (await http(page.port, "/etc/passwd")).status == 404
    post = await http(page.port, "/", method="POST")
    assert post.status == 405 and post.headers["allow"] == "GET, HEAD"
    head = await http(page.port, "/", method="HEAD")
    assert head.status == 200 and head.body == b""
    # A name that is not loopback: a rebound DNS name in someone's browser.
    assert (await http(page.port, "/", host="evil.example")).status == 403
    assert (await http(page.port, "/", host="localhost")).status == 200


@pytest.mark.integration
async def test_a_token_is_required_when_one_is_set(
    page_factory: Callable[..., Awaitable[StatusPage]], tmp_path: Path
) -> None:
    token_file = tmp_path / "status.token"
    token_file.write_text(TOKEN + "\n")
    page = await page_factory(f"  status_token_file: {token_file}")
    assert (await http(page.port, "/")).status == 401
    assert (await http(page.port, "/api/status")).status == 401
    wrong = await http(page.port, "/", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    bearer = await http(page.port, "/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status == 200
    login = await http(page.port, f"/device/ups-1?token={TOKEN}")
    assert login.status == 303
    assert login.headers["location"] == "/device/ups-1"
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    again = await http(page.port, "/device/ups-1", headers={"Cookie": cookie.split(";")[0]})
    assert again.status == 200 and "UPS server room" in again.text


@pytest.mark.integration
async def test_the_cookie_is_a_session_not_the_token_and_forged_ones_are_refused(
    page_factory: Callable[..., Awaitable[StatusPage]], tmp_path: Path
) -> None:
    token_file = tmp_path / "status.token"
    token_file.write_text(TOKEN + "\n")
    page = await page_factory(f"  status_token_file: {token_file}\n  status_session_lifetime: 2h")
    cookies = []
    for _ in range(2):
        login = await http(page.port, f"/?token={TOKEN}")
        assert login.status == 303
        cookies.append(login.headers["set-cookie"])
    for cookie in cookies:
        assert TOKEN not in cookie
        assert cookie.startswith("lvgw_status_session=")
        assert "Max-Age=7200" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # served over plain HTTP
    values = [c.split(";")[0].partition("=")[2] for c in cookies]
    assert values[0] != values[1] and len(values[0]) >= 43
    for value in values:
        answer = await http(page.port, "/", headers={"Cookie": f"lvgw_status_session={value}"})
        assert answer.status == 200
    forged = [
        f"lvgw_status_session={TOKEN}",  # the token itself is no session
        f"lvgw_status_token={TOKEN}",  # the cookie of earlier versions
        # a real session with its last character changed (never to itself)
        f"lvgw_status_session={values[0][:-1]}{'B' if values[0].endswith('A') else 'A'}",
        f"lvgw_status_session={secrets.token_urlsafe(32)}",
    ]
    for cookie in forged:
        answer = await http(page.port, "/api/status", headers={"Cookie": cookie})
        assert answer.status == 401, cookie
        assert answer.headers["connection"] == "close"


@pytest.mark.integration
@pytest.mark.parametrize(
    "target",
    ["/%2F%2Fevil.example/x", "//evil.example/x", "/%5Cevil.example/x", "/%2F%5Cevil.example",
     "/%09/evil.example", "/https:%2F%2Fevil.example"],
)  # fmt: skip
async def test_the_login_redirect_stays_on_this_site(
    page_factory: Callable[..., Awaitable[StatusPage]], tmp_path: Path, target: str
) -> None:
    token_file = tmp_path / "status.token"
    token_file.write_text(TOKEN + "\n")
    page = await page_factory(f"  status_token_file: {token_file}")
    login = await http(page.port, f"{target}?token={TOKEN}&keep=1")
    assert login.status == 303
    location = login.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "token" not in location and location.endswith("?keep=1")
    here = f"http://127.0.0.1:{page.port}"
    assert urlsplit(urljoin(f"{here}{target}", location)).netloc == f"127.0.0.1:{page.port}"


@pytest.mark.integration
async def test_connections_over_the_site_files_cap_are_refused(
    page_factory: Callable[..., Awaitable[StatusPage]],
) -> None:
    page = await page_factory("  status_max_connections: 3")
    idle = [await asyncio.open_connection("127.0.0.1", page.port) for _ in range(3)]
    try:
        async with asyncio.timeout(5):
            while page.server.open_connections < 3:
                await asyncio.sleep(0.01)
        busy = await http(page.port, "/")
        assert busy.status == 503 and busy.headers["retry-after"] == "5"
    finally:
        for _, writer in idle:
            writer.close()
            await writer.wait_closed()
    async with asyncio.timeout(5):
        while page.server.open_connections:
            await asyncio.sleep(0.01)
    assert (await http(page.port, "/")).status == 200


def test_lan_address_without_token_is_refused_at_load_and_at_start(tmp_path: Path) -> None:
    path = write_site(tmp_path / "site", "  status_listen: 0.0.0.0:8780")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert "not a loopback address: give status_token_file" in str(refused.value.problems[0])
    config = load_config(write_site(tmp_path / "site"))
    with pytest.raises(StatusPageError, match="reachable from the network"):
        StatusPage(config, lambda: None, listen="192.0.2.1:8780")
    short = tmp_path / "short.token"
    short.write_text("abc\n")
    config = load_config(write_site(tmp_path / "site", f"  status_token_file: {short}"))
    with pytest.raises(StatusPageError, match="at least 16 characters"):
        StatusPage(config, lambda: None)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(write_site(tmp_path / "site", f"  status_token_file: {tmp_path}/none"))


@pytest.mark.integration
async def test_a_taken_port_is_reported(page_factory: Callable[..., Awaitable[StatusPage]]) -> None:
    page = await page_factory()
    with pytest.raises(StatusPageError, match="cannot listen"):
        await page_factory(listen=f"127.0.0.1:{page.port}")
