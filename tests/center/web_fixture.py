"""A fixture ledger for the web app's tests: tickets of three sites and two customers
whose clocks are hand-picked, so the board's countdowns, the on-time rate and the
monthly report can be computed by hand (the golden files beside the tests).

Every event is built by the gateway's own wire code and checked against the schema.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from center.events import parse_ticket_event
from center.ledger import Ledger
from gateway import shipped
from gateway.config.site import Site
from gateway.model import EventKind, Level
from gateway.model import TicketEvent as GatewayEvent
from gateway.tickets.wire import encode, event_payload

_SCHEMA = Draft202012Validator(
    shipped.schema("ticket-event"), format_checker=Draft202012Validator.FORMAT_CHECKER
)
_IDS = itertools.count(1)
T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=30)  # the board's "now": 2026-11-22 10:30 UTC
CUSTOMERS = {"site-001": "ACME", "site-002": "Beta Mall", "site-003": "Beta Mall"}
CONTRACT_ENDS = {"ACME": date(2027, 6, 30), "Beta Mall": date(2027, 3, 31)}
M = timedelta(minutes=1)


def site(site_id: str) -> Site:
    customer = CUSTOMERS[site_id]
    return Site.model_validate({
        "id": site_id, "name": f"Plant {site_id[-1]}", "customer": {"name": customer},
        "contract": {"type": "annual", "ends": CONTRACT_ENDS[customer].isoformat()},
    })  # fmt: skip


@dataclass
class Fixture:
    """A ticket's life: opened at ``occurred``, its deadlines, what happened."""

    ticket_id: str
    site_id: str
    severity: int
    occurred: datetime
    response_after: timedelta
    onsite_after: timedelta | None
    acked: timedelta | None = None
    arrived: timedelta | None = None
    departed: timedelta | None = None
    resolved: timedelta | None = None
    device: tuple[str, str] = ("sw-core", "switch")
    code: str = "device.unreachable"
    extra: dict[str, Any] = field(default_factory=dict)

    def events(self) -> list[bytes]:
        kinds = ["open"] + (["update"] if self.acked or self.arrived else [])
        kinds += ["resolve"] if self.resolved is not None else []
        out = []
        for seq, kind in enumerate(kinds, 1):
            final = seq == len(kinds)
            at = self.occurred + (
                self.resolved if kind == "resolve" and self.resolved
                else max(x for x in (self.acked, self.arrived, self.departed, M) if x)
                if kind == "update" else timedelta(0)
            )  # fmt: skip
            event = GatewayEvent(
                event_id=f"ev-{next(_IDS):06d}-{self.ticket_id}-{seq}",
                event=EventKind(kind), ticket_id=self.ticket_id, seq=seq,
                severity=Level(self.severity),
                title=f"{self.device[0]} fault ({self.ticket_id})",
                device_id=self.device[0], device_kind=self.device[1],
                fault_code=self.code,
                occurred_at=self.occurred, emitted_at=at,
                response_due=self.occurred + self.response_after,
                onsite_due=self.occurred + self.onsite_after if self.onsite_after else None,
                dedup_key=f"{self.site_id}/{self.device[0]}/{self.code}/",
                resolved_at=(self.occurred + self.resolved
                             if kind == "resolve" and self.resolved else None),
                acknowledged_by="desk-7" if self.acked and seq > 1 else None,
                acknowledged_at=self.occurred + self.acked if self.acked and seq > 1 else None,
                arrived_at=self.occurred + self.arrived if self.arrived and seq > 1 else None,
                departed_at=(self.occurred + self.departed
                             if self.departed and seq > 1 and final else None),
            )  # fmt: skip
            payload = encode(event_payload(event, site(self.site_id), None))
            _SCHEMA.validate(json.loads(payload))
            out.append(payload)
        return out


H = timedelta(hours=1)
D = timedelta(days=1)
# Open tickets on the board at NOW (10:30 UTC on 2026-11-22).
OPEN = [
    # Response due 10:10, nobody responded: OVERDUE 20m00s; on site due 12:00: in 1h30m.
    Fixture("t-a", "site-001", 1, T0, 10 * M, 2 * H),
    # Due 11:00 (in 30m00s) and 14:00 (in 3h30m).
    Fixture("t-b", "site-002", 2, T0, 60 * M, 4 * H, device=("nvr-1", "nvr")),
    # Acknowledged at 10:05 (on time); on site due 10:20, nobody came: OVERDUE 10m00s.
    Fixture("t-c", "site-001", 3, T0, 10 * M, 20 * M, acked=5 * M, device=("ups-1", "ups")),
    # Acknowledged 10:02, arrived 10:25: both met, nothing runs: last on the board.
    Fixture(
        "t-d",
        "site-003",
        4,
        T0,
        30 * M,
        8 * H,
        acked=2 * M,
        arrived=25 * M,
        device=("pbx-1", "pbx"),
    ),
]
# ACME's quarterly inspection from 2026-10-01: acknowledged the next day, done (the
# technician arrived) on 2026-11-10 08:00; still open (resolved when the next opens).
OPEN.append(
    Fixture("t-pm", "site-001", 4, datetime(2026, 10, 1, 8, tzinfo=UTC), 4 * H, None,
            acked=1 * D, arrived=40 * D, device=("gateway", "gateway"), code="pm.due")
)  # fmt: skip
NOV = datetime(2026, 11, 1, tzinfo=UTC)
# Resolved tickets of November 2026 (and one of October) for the on-time rate and the
# monthly report.
RESOLVED = [
    # ACME: response and on site both on time.
    Fixture(
        "t-n1",
        "site-001",
        1,
        NOV + 2 * D,
        10 * M,
        2 * H,
        acked=4 * M,
        arrived=90 * M,
        departed=3 * H,
        resolved=3 * H,
    ),
    # ACME: response late (acked after 15 min of 10), on site on time.
    Fixture(
        "t-n2",
        "site-001",
        2,
        NOV + 5 * D,
        10 * M,
        4 * H,
        acked=15 * M,
        arrived=3 * H,
        departed=5 * H,
        resolved=5 * H,
        device=("nvr-1", "nvr"),
    ),
    # Beta Mall: response on time, on site late (arrived after 9 h of 8).
    Fixture(
        "t-n3",
        "site-002",
        3,
        NOV + 9 * D,
        30 * M,
        8 * H,
        acked=20 * M,
        arrived=9 * H,
        departed=10 * H,
        resolved=10 * H,
        device=("ups-1", "ups"),
    ),
    # Beta Mall: L4, no visit due; responded on time, resolved remotely.
    Fixture(
        "t-n4",
        "site-003",
        4,
        NOV + 12 * D,
        4 * H,
        None,
        acked=1 * H,
        resolved=6 * H,
        device=("pbx-1", "pbx"),
    ),
    # Beta Mall: nobody responded before it cleared by itself after 2 h of 1: late.
    Fixture(
        "t-n5", "site-002", 2, NOV + 20 * D, 60 * M, 4 * H, resolved=2 * H, device=("nvr-1", "nvr")
    ),
    # October: not in November's numbers.
    Fixture(
        "t-o1",
        "site-001",
        1,
        datetime(2026, 10, 30, tzinfo=UTC),
        10 * M,
        2 * H,
        acked=5 * M,
        arrived=60 * M,
        departed=2 * H,
        resolved=2 * H,
    ),
]


def build_ledger(path: Path, fixtures: list[Fixture] | None = None) -> Path:
    fill(Ledger.open(path), fixtures)
    return path


def fill(ledger: Ledger, fixtures: list[Fixture] | None = None) -> None:
    """The fixture's tickets, statuses and health into ``ledger``, which is closed."""
    try:
        for fixture in fixtures if fixtures is not None else OPEN + RESOLVED:
            for payload in fixture.events():
                topic = f"lvgw/v1/{fixture.site_id}/tickets"
                ledger.ingest(parse_ticket_event(topic, payload), 1.0)
        for site_id in CUSTOMERS:
            ledger.record_status(site_id, {"state": "online", "site": site_id,
                                           "version": "0.1.0", "backlog": {"ticket": 0}},
                                 NOW.timestamp() - 3600)  # fmt: skip
        ledger.record_health("site-001", HEALTH, NOW.timestamp() - 60)
    finally:
        ledger.close()


# site-001's last health: two switches, a recorder, a UPS (sw-edge never had a ticket).
HEALTH = {
    "schema": "lvgw.health/1", "site": "site-001", "at": "2026-11-22T10:29:00+00:00",
    "devices": {
        "sw-core": {"kind": "switch", "state": "down", "level": 1},
        "sw-edge": {"kind": "switch", "state": "up", "level": None},
        "nvr-1": {"kind": "nvr", "state": "up", "level": None,
                  "cameras": {"online": 15, "total": 16}, "disks": {"healthy": 4, "total": 4}},
        "ups-1": {"kind": "ups", "state": "up", "level": 3, "mains": "on",
                  "battery": {"charge": 100, "runtime_min": 40, "status": "normal"}},
    },
    "totals": {"cameras": {"online": 15, "total": 16}},
}  # fmt: skip
