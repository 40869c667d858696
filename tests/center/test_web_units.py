"""The web app's pieces that need no server: the users file and its hashes, and the
golden files computed by hand on the fixture ledger (tests/center/web_fixture.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from center.ledger import Ledger
from center.web.board import board_lines
from center.web.monthly import month_bounds, monthly, report_lines
from center.web.ontime import month_of, rate_lines, rates
from center.web.tickets import TicketView, customers_of_sites, views
from center.web.users import check_password, load_users
from gateway.config.errors import ConfigError
from tests.center.test_web_app import PASSWORD, users_file
from tests.center.web_fixture import HEALTH, NOW, build_ledger

GOLDEN = Path(__file__).parent / "golden" / "web"


def test_the_board_golden(tmp_path: Path) -> None:
    ledger = Ledger.open(build_ledger(tmp_path / "center.db"))
    try:
        tickets = views(ledger.tickets(True), ledger.last_events(True))
    finally:
        ledger.close()
    lines = board_lines(tickets, NOW)
    assert "\n".join(lines) + "\n" == (GOLDEN / "board.txt").read_text()


def test_users_file_hashes_and_mistakes(tmp_path: Path) -> None:
    path = users_file(tmp_path)
    text = path.read_text()
    assert PASSWORD not in text and "$argon2id$" in text
    assert path.stat().st_mode & 0o077 == 0
    users = load_users(path)
    assert check_password(users["dora"], PASSWORD)
    assert not check_password(users["dora"], PASSWORD + "x")
    assert not check_password(None, PASSWORD)
    assert users["acme"].customers == ["ACME"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("users:\n  - {name: x, role: customer, password: '$argon2id$v'}\n")
    with pytest.raises(ConfigError) as caught:
        load_users(bad)
    assert f"{bad}:2:" in str(caught.value) and "customers" in str(caught.value)


def _tickets(tmp_path: Path) -> list[TicketView]:
    ledger = Ledger.open(build_ledger(tmp_path / "center.db"))
    try:
        return views(ledger.tickets(), ledger.last_events())
    finally:
        ledger.close()


@pytest.mark.parametrize("month", ["2026-11", "2026-10"])
def test_the_on_time_rate_golden(tmp_path: Path, month: str) -> None:
    lines = rate_lines(rates(_tickets(tmp_path), month))
    assert "\n".join(lines) + "\n" == (GOLDEN / f"ontime-{month}.txt").read_text()


@pytest.mark.parametrize("customer", ["ACME", "Beta Mall"])
def test_the_monthly_report_golden(tmp_path: Path, customer: str) -> None:
    tickets = _tickets(tmp_path)
    report = monthly(
        customer, "2026-11", tickets, customers_of_sites(tickets, {}),
        {"site-001": HEALTH}, NOW,
    )  # fmt: skip
    name = f"monthly-{customer.replace(' ', '-')}-2026-11.txt"
    assert "\n".join(report_lines(report)) + "\n" == (GOLDEN / name).read_text()


def test_months_are_the_reporting_time_zones(tmp_path: Path) -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    start, end = month_bounds("2026-11", shanghai)
    assert (start, end) == (
        datetime(2026, 10, 31, 16, tzinfo=UTC),
        datetime(2026, 11, 30, 16, tzinfo=UTC),
    )
    assert month_bounds("2026-11") == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    # A ticket at 02:00 on 1 November in Shanghai is October's in UTC.
    ticket = replace(_tickets(tmp_path)[0], occurred_at=datetime(2026, 10, 31, 18, tzinfo=UTC))
    assert month_of(ticket) == "2026-10"
    assert month_of(ticket, shanghai) == "2026-11"
