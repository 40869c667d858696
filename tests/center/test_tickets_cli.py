"""``lvgw-center tickets``: what the ledger holds, filtered, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from center.cli import main
from center.events import parse_ticket_event
from center.ledger import Ledger, Route
from tests.center.events import ticket_event

pytestmark = pytest.mark.unit


@pytest.fixture
def center_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "center.yaml"
    path.write_text(f"broker: {{host: 127.0.0.1}}\ndatabase: sqlite:///{tmp_path}/c.db\n")
    ledger = Ledger.open(tmp_path / "c.db")
    hook = [Route("hook", frozenset({1, 2, 3, 4}))]
    for topic, payload in [
        ("lvgw/v1/site-001/tickets", ticket_event("t-1", 1)),
        ("lvgw/v1/site-001/tickets", ticket_event("t-1", 3, "resolve")),
        ("lvgw/v1/site-002/tickets", ticket_event("t-2", 1, site_id="site-002")),
        ("lvgw/v1/site-002/tickets", ticket_event("t-2", 2, "resolve", site_id="site-002")),
    ]:
        ledger.ingest(parse_ticket_event(topic, payload), 1.0, hook)
    (first, *_rest) = ledger.due("hook", 2.0)
    ledger.failed(first.id, "HTTP 503", retry_at=None)
    ledger.close()
    return path


def test_json_with_filters(center_yaml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tickets", "-c", str(center_yaml), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(t["ticket_id"], t["state"]) for t in found] == [("t-1", "open"), ("t-2", "resolved")]
    assert found[0]["waiting_events"] == 1
    assert found[0]["deliveries"] == {"hook": {"dead": 1}}
    assert main(["tickets", "-c", str(center_yaml), "--json", "--open"]) == 0
    assert [t["ticket_id"] for t in json.loads(capsys.readouterr().out)] == ["t-1"]
    assert main(["tickets", "-c", str(center_yaml), "--json", "--site", "site-002"]) == 0
    assert [t["ticket_id"] for t in json.loads(capsys.readouterr().out)] == ["t-2"]


def test_table_shows_waiting_and_dead_letters(
    center_yaml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tickets", "-c", str(center_yaml)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["TICKET", "SITE", "DEVICE"]
    assert "1 waiting for seq 2; hook: 1 dead-lettered" in out[1]
    assert out[2].startswith("t-2")


def test_no_ledger_yet_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "center.yaml"
    path.write_text(f"broker: {{host: 127.0.0.1}}\ndatabase: sqlite:///{tmp_path}/none.db\n")
    assert main(["tickets", "-c", str(path)]) == 1
    assert "no lvgw-center ledger there" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
