"""The center's web app in process (aiohttp's test server over a real SQLite ledger):
sign-in, sessions, CSRF, the sign-in rate, roles, a customer's own sites only, the
board's order and countdowns against a golden file computed by hand."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from center.config import CenterFile
from center.ledger import Ledger, LedgerStore
from center.service import Center
from center.web import fleet as fleet_view
from center.web.auth import LOGIN_COOKIE
from center.web.callbacks import callback_app
from center.web.users import add_user, check_password, load_users
from tests.center.conftest import center_file, load, running
from tests.center.site_gateway import site_gateway
from tests.center.web_fixture import HEALTH, build_ledger
from tests.realservers import Mosquitto, which
from tests.views.png import read_png

pytestmark = pytest.mark.integration
Client = TestClient[web.Request, web.Application]
PASSWORD = "correct horse battery"


def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "users.yaml"
    add_user(path, "dora", "dispatcher", [], PASSWORD)
    add_user(path, "tom", "technician", [], PASSWORD)
    add_user(path, "acme", "customer", ["ACME"], PASSWORD)
    add_user(path, "beta", "customer", ["Beta Mall"], PASSWORD)
    return path


def center_config(tmp_path: Path, broker_port: int = 1) -> CenterFile:
    return CenterFile.model_validate({
        "broker": {"host": "127.0.0.1", "port": broker_port},
        "database": f"sqlite:///{tmp_path / 'center.db'}",
        "web": {"listen": "127.0.0.1:8790", "users_file": str(users_file(tmp_path))},
    })  # fmt: skip


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    build_ledger(tmp_path / "center.db")
    center = center_config(tmp_path)
    store = await LedgerStore(center.ledger).open()
    try:
        async with TestClient(TestServer(callback_app(center, store))) as test_client:
            yield test_client
    finally:
        await store.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


async def sign_in(
    client: Client, name: str, password: str = PASSWORD, next_path: str = "/"
) -> tuple[int, str]:
    form = await client.get(f"/login?next={next_path}")
    token = csrf_of(await form.text())
    answer = await client.post(
        "/login", data={"csrf": token, "name": name, "password": password, "next": next_path}
    )
    return answer.status, await answer.text()


def test_user_add_command(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    run = [sys.executable, "-m", "center", "user", "add", "eve", "--role", "customer",
           "--customer", "ACME", "-f", str(path)]  # fmt: skip
    done = subprocess.run(run, input=PASSWORD + "\n", capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "added eve (customer)" in done.stdout
    assert check_password(load_users(path)["eve"], PASSWORD)
    short = subprocess.run(run, input="short\n", capture_output=True, text=True, check=False)
    assert short.returncode == 2 and "8 characters" in short.stderr


async def test_pages_need_a_session(client: Client) -> None:
    answer = await client.get("/board", allow_redirects=False)
    assert answer.status == 303
    assert answer.headers["Location"] == "/login?next=/board"
    refused = await client.post("/tickets/t-a/ack", data={"csrf": "x"})
    assert refused.status == 403


async def test_sign_in_sets_a_strict_cookie_and_shows_the_board(
    client: Client,
) -> None:
    form = await client.get("/login?next=/board")
    token = csrf_of(await form.text())
    answer = await client.post(
        "/login", data={"csrf": token, "name": "dora", "password": PASSWORD, "next": "/board"},
        allow_redirects=False,
    )  # fmt: skip
    assert answer.status == 303 and answer.headers["Location"] == "/board"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP, and web.secure_cookies not set
    board = await client.get("/board")
    html = await board.text()
    assert board.status == 200
    assert "Content-Security-Policy" in board.headers
    order = re.findall(r'data-ticket="([^"]+)"', html)
    assert order == ["t-a", "t-c", "t-b", "t-d", "t-pm"]
    assert 'value="ack"' in html and 'value="arrive"' in html
    # Filters: level, site, customer.
    assert re.findall(
        r'data-ticket="([^"]+)"', await (await client.get("/board?level=2")).text()
    ) == ["t-b"]
    beta = await (await client.get("/board?customer=Beta+Mall")).text()
    assert re.findall(r'data-ticket="([^"]+)"', beta) == ["t-b", "t-d"]
    site = await (await client.get("/board?site=site-001")).text()
    assert re.findall(r'data-ticket="([^"]+)"', site) == ["t-a", "t-c", "t-pm"]


async def test_a_post_without_the_csrf_token_is_refused(
    client: Client,
) -> None:
    assert (await sign_in(client, "dora"))[0] == 200
    for data in ({}, {"csrf": "forged"}):
        answer = await client.post("/tickets/t-a/ack", data=data)
        assert answer.status == 403
        assert "CSRF" in await answer.text()
    # Sign-in itself needs the form's token too.
    answer = await client.post("/login", data={"name": "dora", "password": PASSWORD})
    assert answer.status == 403


async def test_wrong_passwords_are_rate_limited(client: Client) -> None:
    for _ in range(5):
        status, text = await sign_in(client, "tom", "wrong password")
        assert status == 401 and "Wrong name or password" in text
    # The sixth, even with the right password, waits.
    status, text = await sign_in(client, "tom")
    assert status == 429 and "Too many failed sign-ins" in text
    # An unknown user name is counted the same way, and says nothing more.
    status, text = await sign_in(client, "nobody", "x")
    assert status == 429  # the same client address


async def test_a_customer_sees_only_its_own_sites(client: Client) -> None:
    status, text = await sign_in(client, "acme")
    assert status == 200
    assert 'data-site="site-001"' in text and "site-002" not in text
    assert (await client.get("/sites/site-001")).status == 200
    for path in ("/sites/site-002", "/sites/site-003", "/board"):
        answer = await client.get(path)
        assert answer.status == 403, path
    # Nor can it act on a ticket.
    page = await (await client.get("/fleet")).text()
    answer = await client.post("/tickets/t-a/ack", data={"csrf": csrf_of(page)})
    assert answer.status == 403


async def test_the_technician_sees_the_fleet_and_a_site(client: Client) -> None:
    status, text = await sign_in(client, "tom")
    assert status == 200 and 'data-ticket="t-a"' in text  # landed on the board
    fleet = await (await client.get("/fleet")).text()
    assert fleet.count('class="site ') == 3
    site = await (await client.get("/sites/site-002")).text()
    assert 'data-ticket="t-b"' in site and 'data-ticket="t-n3"' in site
    assert (await client.get("/sites/site-999")).status == 404


async def test_the_board_acknowledges_through_the_broker(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """The button publishes what ``lvgw-center ack`` publishes; the gateway's own
    inbound checks take it, and the board says so."""
    build_ledger(tmp_path / "center.db")
    center = center_config(tmp_path, mosquitto.port)
    store = await LedgerStore(center.ledger).open()
    try:
        async with (
            site_gateway(mosquitto, "site-001", None, {"t-a"}) as gateway,
            TestClient(TestServer(callback_app(center, store))) as client,
        ):
            status, board = await sign_in(client, "tom", next_path="/board")
            assert status == 200
            answer = await client.post("/tickets/t-a/ack", data={"csrf": csrf_of(board)})
            text = await answer.text()
            assert answer.status == 200
            assert "taken by the gateway" in text and 'class="flash"' in text
            assert [(m["ticket_id"], m["action"], m["by"]) for m in gateway.taken] == [
                ("t-a", "ack", "tom")
            ]
            # A resolved ticket is refused before anything is sent.
            answer = await client.post("/tickets/t-n1/arrive", data={"csrf": csrf_of(board)})
            text = await answer.text()
            assert "resolved already" in text and 'class="flash bad"' in text
            assert len(gateway.raw) == 1
    finally:
        await store.close()


def pdf_text(tmp_path: Path, pdf: bytes) -> str:
    """The PDF's text by poppler's pdftotext, and its first page rendered by pdftoppm
    (a PNG that is not blank)."""
    path = tmp_path / "got.pdf"
    path.write_bytes(pdf)
    assert pdf.startswith(b"%PDF-")
    text = subprocess.run(
        [which("pdftotext"), "-layout", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    subprocess.run(
        [which("pdftoppm"), "-png", "-r", "50", "-f", "1", "-l", "1", str(path),
         str(tmp_path / "page")], check=True,
    )  # fmt: skip
    image = read_png(next(tmp_path.glob("page*.png")).read_bytes())
    assert len(image.colours()) > 10
    return text


async def test_the_on_time_rate_and_the_monthly_report(client: Client, tmp_path: Path) -> None:
    assert (await sign_in(client, "dora"))[0] == 200
    page = await (await client.get("/ontime?month=2026-11")).text()
    assert "71.4 % (5/7)" in page and "75.0 % (3/4)" in page
    assert re.findall(r'data-ticket="([^"]+)"', page) == ["t-n2", "t-n3", "t-n5"]
    assert (await client.get("/ontime?month=nope")).status == 400
    monthly = await client.get("/customers/ACME/monthly?month=2026-11")
    html = await monthly.text()
    assert monthly.status == 200
    # November is over: counted to its end (t-a, still open, down from Nov 22 10:00:
    # 206 h, with t-n1's 3 h, of 2 switches x 720 h).
    assert "85.49 %" in html and "done 2026-11-10 08:00 +0000" in html
    assert "2027-06-30" in html
    download = await client.get("/customers/ACME/monthly?month=2026-11&format=html")
    assert (
        download.headers["Content-Disposition"]
        == 'attachment; filename="ACME-2026-11-service-report.html"'
    )
    pdf = await client.get("/customers/Beta%20Mall/monthly?month=2026-11&format=pdf")
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    text = pdf_text(tmp_path, await pdf.read())
    assert "Monthly service report: Beta Mall, 2026-11" in text
    assert "t-n3" in text and "LATE" in text and "2027-03-31" in text
    assert "No inspection records" in text


async def test_a_customer_reads_only_its_own_monthly_report(client: Client) -> None:
    assert (await sign_in(client, "beta"))[0] == 200
    assert (await client.get("/customers/Beta%20Mall/monthly?month=2026-11")).status == 200
    assert (await client.get("/customers/ACME/monthly?month=2026-11")).status == 403
    assert (await client.get("/ontime")).status == 403
    assert (await client.get("/sites/site-001/report")).status == 403


async def test_an_offline_site_says_since_when_instead_of_waiting(
    client: Client, tmp_path: Path
) -> None:
    ledger = Ledger.open(tmp_path / "center.db")
    ledger.record_status("site-002", {"state": "offline", "reason": "connection lost"}, 1.8e9)
    ledger.close()
    assert (await sign_in(client, "tom"))[0] == 200
    page = await client.get("/sites/site-002/report")
    text = await page.text()
    assert page.status == 200
    assert 'id="no-report"' in text
    assert "site site-002 is offline since 2027-01-15 08:00:00Z" in text
    assert (await client.get("/sites/site-002/report.pdf")).status == 404


async def test_ingest_keeps_each_sites_last_health(tmp_path: Path, mosquitto: Mosquitto) -> None:
    """The retained ``health`` topic: each site's last document, shown on its page."""
    config = center_file(tmp_path, mosquitto)
    document = {**HEALTH, "at": "2026-11-22T10:31:00+00:00"}
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as site:
        await site.publish("lvgw/v1/site-001/health", json.dumps(HEALTH).encode(), qos=1,
                           retain=True)  # fmt: skip
        center = Center(load(config))
        async with running(center):
            await site.publish("lvgw/v1/site-001/health", json.dumps(document).encode(),
                               qos=1, retain=True)  # fmt: skip
            await site.publish("lvgw/v1/site-002/health", b"not json", qos=1, retain=True)

            async def latest() -> object:
                found = await center.store.health("site-001")
                return found is not None and found[0]["at"] == document["at"]

            async def refused() -> bool:
                # Stored in its own turn, which may come after site-001's is seen.
                rejected = await center.store.rejected()
                return any(topic == "lvgw/v1/site-002/health" and "not a health" in why
                           for topic, _, why in rejected)  # fmt: skip

            async with asyncio.timeout(15):
                while not (await latest() and await refused()):
                    await asyncio.sleep(0.05)
            assert await center.store.health("site-002") is None
        await site.publish("lvgw/v1/site-001/health", b"", retain=True)
        await site.publish("lvgw/v1/site-002/health", b"", retain=True)
    html = fleet_view.health_table(document, None)
    assert "cameras 15/16 online; disks 4/4 healthy" in html
    assert 'data-device="sw-edge"' in html


def test_check_config_reads_the_users_file(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    users.write_text("users:\n  - {name: dora, role: boss, password: '$argon2id$x'}\n")
    config = tmp_path / "center.yaml"
    config.write_text(
        "broker: {host: 127.0.0.1}\n"
        f"database: sqlite:///{tmp_path}/center.db\n"
        "web: {listen: '127.0.0.1:8790', users_file: users.yaml}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "center", "check-config", "-c", str(config)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout
    assert f"{users}:2:" in done.stderr and "role" in done.stderr
    assert "Traceback" not in done.stderr


async def test_secure_cookies_behind_a_tls_proxy(tmp_path: Path) -> None:
    build_ledger(tmp_path / "center.db")
    plain = center_config(tmp_path)
    assert plain.web is not None
    center = plain.model_copy(update={"web": plain.web.model_copy(update={"secure_cookies": True})})
    store = await LedgerStore(center.ledger).open()
    try:
        async with TestClient(TestServer(callback_app(center, store))) as client:
            form = await client.get("/login")
            assert "Secure" in form.headers["Set-Cookie"]
            answer = await client.post("/login", data={
                "csrf": csrf_of(await form.text()), "name": "dora", "password": PASSWORD,
                "next": "/",
            }, cookies={LOGIN_COOKIE: form.cookies[LOGIN_COOKIE].value},
                allow_redirects=False)  # fmt: skip
            assert answer.status == 303
            assert "Secure" in answer.headers["Set-Cookie"]
    finally:
        await store.close()
