"""The daily health digest on ``lvgw/v1/<site>/digest``: one JSON message a day.

Built from the agent's status snapshot (devices, open tickets) and the ticket
history (what was resolved in the last 24 hours), with the contract's next dates.
It goes through the outbox as a control message (QoS 1, not retained), so a digest
written while the uplink is down is delivered when it returns. One digest per daily
slot: the slot's day is remembered in proactive.db, and a missed slot (the agent
was stopped at digest time) is caught up once at the next start. The first digest
is the first slot after the agent's first start.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from gateway.config.site import Site
from gateway.i18n import Translator, translator
from gateway.outbox import MessageClass, OutboxMessage
from gateway.proactive import calendar
from gateway.proactive.ports import Publisher
from gateway.proactive.state import ProactiveState
from gateway.snapshot import StatusSnapshot, TicketStatus
from gateway.tickets.history import ResolvedTicket, TicketHistory
from gateway.tickets.wire import rfc3339, site_block
from gateway.uplink import topic_prefix

log = logging.getLogger("lvgw.proactive")

SCHEMA_ID = "lvgw.digest/1"
StatusSource = Callable[[], StatusSnapshot | None]


def digest_topic(site_id: str) -> str:
    return topic_prefix(site_id) + "digest"


def _overdue(ticket: TicketStatus, now: datetime) -> bool:
    due = ticket.response_due
    if ticket.acknowledged_by or due is None:
        return False
    return due < now


def summary_text(body: dict[str, Any], tr: Translator) -> str:
    """The digest in a sentence or two for people, in the site's language: what an
    email or a chat message of the service center can show as it is."""
    devices, tickets = body["devices"], body["open_tickets"]
    total, down = devices["total"], len(devices["unreachable"])
    parts = [
        tr.ngettext("{count} device", "{count} devices", total).format(count=total)
        + (
            tr.ngettext(", {count} not answering", ", {count} not answering", down).format(
                count=down
            )
            if down
            else ""
        )
    ]
    count = tickets["count"]
    opened = tr.ngettext("{count} open ticket", "{count} open tickets", count).format(count=count)
    levels = [f"L{level}: {n}" for level, n in tickets["by_severity"].items() if n]
    parts.append(opened + (f" ({', '.join(levels)})" if levels else ""))
    overdue = len(tickets["overdue_response"])
    if overdue:
        parts.append(
            tr.ngettext(
                "{count} past its response deadline", "{count} past their response deadline",
                overdue,
            ).format(count=overdue)
        )  # fmt: skip
    resolved = len(body["last_24h"]["resolved"])
    parts.append(
        tr.ngettext(
            "{count} resolved in the last 24 hours", "{count} resolved in the last 24 hours",
            resolved,
        ).format(count=resolved)
    )  # fmt: skip
    contract = body["contract"]
    if contract["next_inspection_due"]:
        parts.append(
            tr.gettext("next inspection due {date}").format(date=contract["next_inspection_due"])
        )
    if contract["days_to_end"] is not None and contract["days_to_end"] >= 0:
        days = contract["days_to_end"]
        parts.append(
            tr.ngettext(
                "the contract ends in {count} day", "the contract ends in {count} days", days
            ).format(count=days)
        )
    return tr.gettext("{parts}.").format(parts=tr.gettext("; ").join(parts))


def build_digest(
    site: Site,
    status: StatusSnapshot | None,
    resolved: Sequence[ResolvedTicket],
    day: str,
    now: datetime,
) -> dict[str, Any]:
    """The digest's body; ``resolved``: the tickets resolved in the last 24 hours."""
    devices = status.devices if status is not None else ()
    tickets = status.open_tickets if status is not None else ()
    by_level: dict[str, int] = {str(level): 0 for level in (1, 2, 3, 4)}
    for ticket in tickets:
        by_level[str(int(ticket.severity))] += 1
    today = calendar.local_day(site, now)
    next_due = calendar.next_inspection_due(site, today)
    ends = site.contract.ends
    body: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "day": day,
        "generated_at": rfc3339(now),
        "site": site_block(site, contract_ended=ends is not None and today > ends),
        "status_from": rfc3339(status.generated_at) if status is not None else None,
        "devices": {
            "total": len(devices),
            "unreachable": [d.id for d in devices if d.reachable is False],
            "not_polled": [d.id for d in devices if d.reachable is None],
            "with_open_tickets": {
                d.id: int(d.worst_level) for d in devices if d.worst_level is not None
            },
        },
        "open_tickets": {
            "count": len(tickets),
            "by_severity": by_level,
            "overdue_response": [t.ticket_id for t in tickets if _overdue(t, now)],
            "forecasts": [
                {"ticket_id": t.ticket_id, "device": t.device, "title": t.title}
                for t in tickets
                if t.fault.startswith("forecast.")
            ],
            "items": [
                {
                    "ticket_id": t.ticket_id,
                    "device": t.device,
                    "fault": t.fault,
                    "instance": t.instance,
                    "severity": int(t.severity),
                    "title": t.title,
                }
                for t in tickets
            ],
        },
        "last_24h": {
            "resolved": [
                {
                    "ticket_id": r.ticket_id,
                    "device": r.device,
                    "fault": r.code,
                    "severity": int(r.severity),
                    "title": r.title,
                    "resolved_at": rfc3339(r.resolved_at),
                }
                for r in resolved
            ],
        },
        "contract": {
            "next_inspection_due": next_due.isoformat() if next_due else None,
            "days_to_end": (ends - today).days if ends is not None else None,
        },
        "uplink_backlog": dict(status.uplink.backlog) if status is not None else {},
    }
    body["summary"] = summary_text(body, translator(site.locale))
    return body


class DigestJob:
    def __init__(
        self,
        site: Site,
        outbox: Publisher,
        status: StatusSource,
        history: TicketHistory | None,
        state: ProactiveState,
    ) -> None:
        self.site = site
        self.outbox = outbox
        self.status = status
        self.history = history
        self.state = state

    async def run(self, now: datetime, slot: datetime) -> None:
        day = calendar.local_day(self.site, slot).isoformat()
        if self.state.digest_day is None:
            # The first start ever: nothing was missed; the first digest is the next slot's.
            self.state.digest_day = day
            return
        if day <= self.state.digest_day:
            return  # this slot's digest went out already
        since = now - timedelta(hours=24)
        resolved = [] if self.history is None else await self.history.resolved_since(since)
        body = build_digest(self.site, self.status(), resolved, day, now)
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        topic = digest_topic(self.site.id)
        await self.outbox.put(OutboxMessage(topic, payload, 1, False, MessageClass.CONTROL))
        self.state.digest_day = day
        log.info("digest queued site=%s day=%s bytes=%d", self.site.id, day, len(payload))
