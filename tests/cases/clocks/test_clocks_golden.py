"""The golden table of the service clocks (cases.yaml), played through the ticket book
and the ticket's JSON form, as the service center receives them.

A case is one fault at one moment (``level``, ``at``: the ticket it opens), or a
timeline of ``steps`` (level changes, acknowledgements, arrivals, ticks, the clear).
Every case names the seed phrase it follows. The base site uses the defaults of the
service rules, so changing any default fails some case here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.config.site import Site
from gateway.model import Condition, EventKind, Level, TicketEvent
from gateway.tickets import ServiceClocks, TicketBook
from gateway.tickets.terms import Coverage
from gateway.tickets.wire import event_payload

CASES = yaml.safe_load((Path(__file__).parent / "cases.yaml").read_text(encoding="utf-8"))
BASE_SITE: dict[str, Any] = {
    "id": "golden",
    "name": "Golden site",
    "customer": {"name": "Golden Customer"},
    "contract": {"type": "annual", "ends": "2027-06-30"},
    "zone": "urban",
    "timezone": "Asia/Shanghai",
}
DEVICE_KINDS = {"nvr-1": "nvr", "gateway": "gateway"}
TIME_KEYS = ("response_due", "onsite_due", "loaner_due", "arrived_at", "departed_at")


def when(text: str) -> datetime:
    at = datetime.fromisoformat(str(text))
    assert at.tzinfo is not None, f"{text}: give the UTC offset"
    return at


class Player:
    """One case: a site, a ticket book on a clock the case moves, one incident."""

    def __init__(self, case: dict[str, Any]) -> None:
        self.site = Site.model_validate({**BASE_SITE, **case.get("site", {})})
        self.device = case.get("device", "nvr-1")
        self.code = case.get("code", "device.unreachable")
        notices = {(self.device, self.code)} if case.get("notice") else set()
        clocks = ServiceClocks.for_site(self.site.zone, self.site.clocks, self.site.local_zone)
        self.now = datetime.fromisoformat("2000-01-01T00:00+00:00")
        self.book = TicketBook(
            self.site.id,
            clocks,
            DEVICE_KINDS,
            Coverage.for_site(self.site, notices),
            now=lambda: self.now,
        )
        self.since: datetime | None = None
        self.level = Level.L4
        self.ticket_id = ""

    def condition(self, active: bool) -> Condition:
        assert self.since is not None, "the first step opens the ticket with a level"
        since = self.since if active else self.now
        return Condition(self.device, self.code, self.level, "A fault", active, since)

    def step(self, step: dict[str, Any]) -> list[TicketEvent]:
        self.now = when(step["at"])
        if "level" in step:
            self.level = Level(step["level"])
            self.since = self.since or self.now
            events = self.book.on_condition(self.condition(True)).events
            self.ticket_id = self.ticket_id or events[0].ticket_id
            return events
        if "clear" in step:
            return self.book.on_condition(self.condition(False)).events
        if "tick" in step:
            return self.book.tick(self.now).events
        if "ack" in step:
            self.book.acknowledge(self.ticket_id, step["ack"], self.now)
        elif "arrived" in step:
            self.book.arrive(self.ticket_id, step["arrived"], self.now)
        elif "departed" in step:
            self.book.depart(self.ticket_id, self.now)
        else:
            raise AssertionError(f"unknown step {step}")
        return []

    def observed(self, events: list[TicketEvent], expected: dict[str, Any]) -> dict[str, Any]:
        """The expected keys, read from the JSON form of the step's last event."""
        out: dict[str, Any] = {}
        if "reminders" in expected:
            out["reminders"] = [
                [e.reminder_kind.value if e.reminder_kind else None, e.reminder_no]
                for e in events
                if e.event is EventKind.REMINDER
            ]
        if set(expected) - {"reminders"}:
            assert events, "the step produced no event to check"
            payload = event_payload(events[-1], self.site, None)
            acknowledged = payload["acknowledged"]
            fields = {
                **{key: payload[key] for key in TIME_KEYS},
                "acknowledged": acknowledged["by"] if acknowledged else None,
                "on_time": payload["on_time"],
                "customer_attribute": payload["service"]["customer_attribute"],
                "contract_ended": payload["site"]["contract"]["ended"],
            }
            for key in set(expected) - {"reminders"}:
                value = fields[key]
                out[key] = when(value) if key in TIME_KEYS and value is not None else value
        return out


def expectation(expected: dict[str, Any]) -> dict[str, Any]:
    return {
        key: when(value) if key in TIME_KEYS and value is not None else value
        for key, value in expected.items()
    }


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_clock_case(case: dict[str, Any]) -> None:
    assert case.get("seed"), "every case names the seed phrase it follows"
    steps = case.get("steps") or [
        {"at": case["at"], "level": case["level"], "expect": case["expect"]}
    ]
    player = Player(case)
    for n, step in enumerate(steps, 1):
        events = player.step(step)
        if "expect" in step:
            expected = expectation(step["expect"])
            assert player.observed(events, expected) == expected, f"step {n}: {step}"


def test_the_table_covers_what_the_rules_ask() -> None:
    """At least 30 cases; every level; both zones; every contract type; a DST zone."""
    assert len(CASES) >= 30
    levels = {c.get("level") for c in CASES} | {
        s.get("level") for c in CASES for s in c.get("steps", [])
    }
    assert {1, 2, 3, 4} <= levels
    sites = [c.get("site", {}) for c in CASES]
    assert {s.get("zone", "urban") for s in sites} == {"urban", "suburban"}
    contracts = {s.get("contract", BASE_SITE["contract"])["type"] for s in sites}
    assert contracts == {"annual", "per_visit", "warranty"}
    assert any(s.get("timezone") == "Europe/Berlin" for s in sites)
