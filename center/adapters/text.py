"""A ticket event told to people: its subject line, what happened, and its clocks.

The mail, DingTalk and WeCom adapters all say the same things (the fields of
docs/mqtt.md), each in its own format: plain text for mail, markdown for the chat
robots. Values are the event's, as published; times keep the offset they were
published with (the gateway publishes UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

_EVENTS = {"open": "Opened", "update": "Updated", "resolve": "Resolved", "reminder": "Reminder"}
_REMINDERS = {
    "response": "not acknowledged by the response deadline",
    "onsite": "nobody on site by the on-site deadline",
}
_MAX_RELATED = 20  # a storm's ticket may list many devices: the first ones, then a count


@dataclass(frozen=True, slots=True)
class TicketText:
    level: str  # L1..L4
    site: str  # the site's id
    title: str
    headline: str  # what this event says, e.g. "Opened: L1, system down"
    facts: tuple[tuple[str, str], ...]  # (label, value), in reading order

    @property
    def subject(self) -> str:
        """``[L1] site-001: Switch sw-core is unreachable``."""
        return f"[{self.level}] {self.site}: {self.title}"


def when(value: object) -> str:
    """An RFC 3339 time as ``2026-11-22 10:46:46 UTC`` (other offsets kept)."""
    if not isinstance(value, str):
        return "-"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = moment.strftime("%z")
    zone = "UTC" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}"
    return f"{moment:%Y-%m-%d %H:%M:%S} {zone}"


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def describe(event: dict[str, Any]) -> TicketText:
    """The words for one ticket event (a dict valid by the ticket-event schema)."""
    site, device, fault = event["site"], event["device"], event["fault"]
    customer = site.get("customer") or {}
    level = f"L{event['severity']}"
    headline = _headline(event, level)
    facts: list[tuple[str, str]] = []

    def add(label: str, value: object) -> None:
        if value is not None and value != "":
            facts.append((label, _one_line(value)))

    add("Site", f"{site['id']} ({site['name']})" if site.get("name") else site["id"])
    add("Customer", customer.get("name"))
    add("Contact", ", ".join(str(customer[k]) for k in ("contact", "phone") if customer.get(k)))
    add("Address", customer.get("address"))
    name = device.get("name")
    add("Device", f"{device['id']} ({name}, {device['kind']})" if name else
        f"{device['id']} ({device['kind']})")  # fmt: skip
    add("Device address", device.get("address"))
    instance = fault.get("instance")
    add("Fault", f"{fault['code']} ({instance})" if instance else fault["code"])
    add("Occurred", when(event["occurred_at"]))
    add("Respond by", when(event["response_due"]))
    add("On site by", when(event["onsite_due"]) if event.get("onsite_due") else "no visit due")
    if event.get("loaner_due"):
        add("Loaner due", when(event["loaner_due"]))
    acknowledged = event.get("acknowledged")
    if acknowledged:
        add("Acknowledged", f"{when(acknowledged['at'])} by {acknowledged['by']}")
    if event.get("arrived_at"):
        add("Arrived", when(event["arrived_at"]))
    if event.get("departed_at"):
        add("Departed", when(event["departed_at"]))
    if event.get("resolved_at"):
        add("Resolved", when(event["resolved_at"]))
    on_time = event.get("on_time")
    if on_time:
        add("On time", _on_time(on_time))
    related = event.get("related_devices") or []
    if related:
        more = len(related) - _MAX_RELATED
        listed = ", ".join(related[:_MAX_RELATED]) + (f" and {more} more" if more > 0 else "")
        add("Also affected", listed)
    if event.get("maintenance"):
        add("Maintenance", "the device or site was in maintenance")
    service = event.get("service") or {}
    add("Service", service.get("needed"))
    add("Ticket", f"{event['ticket_id']}, event {event['seq']} ({event['event_id']})")
    return TicketText(level, site["id"], _one_line(event["title"]), headline, tuple(facts))


def _headline(event: dict[str, Any], level: str) -> str:
    kind = event["event"]
    meaning = event.get("level_meaning")
    said = f"{_EVENTS.get(kind, kind)}: {level}" + (f", {meaning}" if meaning else "")
    previous = event.get("previous_severity")
    if kind == "update" and previous is not None and previous != event["severity"]:
        said += f" (was L{previous})"
    if kind == "reminder":
        number = event.get("reminder_no")
        why = _REMINDERS.get(event.get("reminder_kind") or "", "")
        said = f"Reminder{f' {number}' if number else ''}: {level}" + (f", {why}" if why else "")
    return _one_line(said)


def _on_time(on_time: dict[str, Any]) -> str:
    words = {True: "yes", False: "late", None: "-"}
    return f"response {words[on_time.get('response')]}, on site {words[on_time.get('onsite')]}"


def plain(text: TicketText) -> str:
    """The text of a mail: the headline, the title, then one fact a line."""
    width = max(len(label) for label, _ in text.facts) + 1
    lines = [text.headline, text.title, ""]
    lines += [f"{label + ':':<{width}} {value}" for label, value in text.facts]
    return "\n".join(lines) + "\n"


def markdown(text: TicketText, *, line_break: str, limit: int) -> str:
    """Markdown for a chat robot, at most ``limit`` bytes of UTF-8: the facts that do
    not fit are left off (said in a last line), a title too long for it is cut."""
    head = [f"### {text.subject}", f"**{text.headline}**"]
    lines = head + [f"**{label}:** {value}" for label, value in text.facts]
    body = line_break.join(lines)
    if len(body.encode()) <= limit:
        return body
    for keep in range(len(lines) - 1, 0, -1):
        left_off = len(lines) - keep
        body = line_break.join([*lines[:keep], f"({left_off} more lines left off)"])
        if len(body.encode()) <= limit:
            return body
    return _cut(body, limit)


def _cut(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: max(0, limit - 3)].decode(errors="ignore") + "…"
