"""What the mail and chat adapters say about a ticket event: subject, headline, clocks."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from center.adapters.text import describe, markdown, plain, when
from gateway.model import Level, ReminderKind
from tests.center.events import T0, ticket_event

pytestmark = pytest.mark.unit


def event(*args: Any, **kwargs: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(ticket_event(*args, **kwargs))
    return body


def test_an_open_ticket_with_its_clocks() -> None:
    body = event("t-1", 1)
    text = describe(body)
    assert text.subject == "[L1] site-001: Switch sw-core is unreachable"
    assert text.headline.startswith("Opened: L1, system down")
    assert plain(text) == (
        "Opened: L1, system down: the system is paralysed or its service interrupted\n"
        "Switch sw-core is unreachable\n"
        "\n"
        "Site:       site-001 (Plant)\n"
        "Customer:   ACME\n"
        "Device:     sw-core (switch)\n"
        "Fault:      device.unreachable\n"
        "Occurred:   2026-11-22 10:36:46 UTC\n"
        "Respond by: 2026-11-22 10:46:46 UTC\n"
        "On site by: 2026-11-22 12:36:46 UTC\n"
        "Service:    Switch sw-core is unreachable\n"
        f"Ticket:     t-1, event 1 ({body['event_id']})\n"
    )


def test_later_events_say_what_changed() -> None:
    acked = describe(
        event("t-1", 2, "update", severity=1, previous_severity=Level(3),
              acked_at=T0 + timedelta(minutes=5), arrived_at=T0 + timedelta(minutes=50))
    )  # fmt: skip
    assert acked.headline.endswith("(was L3)")
    facts = dict(acked.facts)
    assert facts["Acknowledged"] == "2026-11-22 10:41:46 UTC by desk-7"
    assert facts["Arrived"] == "2026-11-22 11:26:46 UTC"
    reminder = describe(
        event("t-1", 3, "reminder", reminder_no=2, reminder_kind=ReminderKind("response"))
    )
    assert reminder.headline == "Reminder 2: L1, not acknowledged by the response deadline"
    resolved = describe(event("t-1", 4, "resolve"))
    assert resolved.headline.startswith("Resolved: L1")
    assert dict(resolved.facts)["Resolved"] == "2026-11-22 11:36:46 UTC"


def test_a_storm_lists_its_first_devices_and_a_count() -> None:
    related = tuple(f"cam-{i:02d}" for i in range(25))
    facts = dict(describe(event("t-1", 1, related=related)).facts)
    assert facts["Also affected"].endswith("cam-19 and 5 more")


def test_text_from_the_site_stays_on_its_line() -> None:
    text = describe(event("t-1", 1, title="Door\nforced **now**"))
    assert text.subject == "[L1] site-001: Door forced **now**"
    assert all("\n" not in value for _, value in text.facts)


def test_markdown_keeps_to_its_limit_in_whole_lines() -> None:
    text = describe(event("t-1", 1))
    full = markdown(text, line_break="\n", limit=4096)
    assert full.splitlines()[0] == "### [L1] site-001: Switch sw-core is unreachable"
    assert "**Respond by:** 2026-11-22 10:46:46 UTC" in full.splitlines()
    short = markdown(text, line_break="\n", limit=200)
    assert len(short.encode()) <= 200
    assert short.splitlines()[-1].endswith("more lines left off)")
    assert all(line in full.splitlines() for line in short.splitlines()[:-1])
    tiny = markdown(text, line_break="\n", limit=20)
    assert len(tiny.encode()) <= 20 and tiny.endswith("…")


def test_times_keep_their_offset() -> None:
    assert when("2026-11-22T10:36:46.000Z") == "2026-11-22 10:36:46 UTC"
    assert when("2026-11-22T18:36:46+08:00") == "2026-11-22 18:36:46 +08:00"
    assert when(None) == "-"
