"""The web app's pieces that need no server: the users file and its hashes, and the
golden files computed by hand on the fixture ledger (tests/center/web_fixture.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from center.ledger import Ledger
from center.web.board import board_lines
from center.web.tickets import views
from center.web.users import check_password, load_users
from gateway.config.errors import ConfigError
from tests.center.test_web_app import PASSWORD, users_file
from tests.center.web_fixture import NOW, build_ledger

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
