"""What the web app reads from the ledger, on PostgreSQL too: each ticket's last event
and each site's last health, and the golden board and monthly report from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from center.ledger import Ledger, LedgerUrl
from center.web.board import board_lines
from center.web.monthly import monthly, report_lines
from center.web.tickets import customers_of_sites, views
from tests.center.web_fixture import HEALTH, NOW, fill

pytestmark = pytest.mark.integration
GOLDEN = Path(__file__).parent / "golden" / "web"


def test_the_golden_board_and_report_from_postgresql(pg_ledger: LedgerUrl) -> None:
    fill(Ledger.connect(pg_ledger))
    ledger = Ledger.connect(pg_ledger)
    try:
        found = ledger.health("site-001")
        assert found is not None
        assert found[0] == HEALTH and found[1] == pytest.approx(NOW.timestamp() - 60)
        assert ledger.health("site-002") is None
        ledger.record_health("site-002", {"devices": {}}, 5.0)
        ledger.record_health("site-002", {"devices": {"x": {"kind": "ups"}}}, 6.0)
        assert ledger.health("site-002") == ({"devices": {"x": {"kind": "ups"}}}, 6.0)
        open_tickets = views(ledger.tickets(True), ledger.last_events(True))
        tickets = views(ledger.tickets(), ledger.last_events())
    finally:
        ledger.close()
    assert "\n".join(board_lines(open_tickets, NOW)) + "\n" == (GOLDEN / "board.txt").read_text()
    report = monthly("ACME", "2026-11", tickets, customers_of_sites(tickets, {}),
                     {"site-001": HEALTH}, NOW)  # fmt: skip
    expected = (GOLDEN / "monthly-ACME-2026-11.txt").read_text()
    assert "\n".join(report_lines(report)) + "\n" == expected
