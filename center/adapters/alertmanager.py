"""The ``alertmanager`` adapter: each ticket as an alert in Alertmanager, whose
receivers (e-mail, WeChat Work, PagerDuty, Opsgenie, webhooks) take it from there.

Alerts go to the API v2 as Alertmanager's documentation says (Sending alerts,
https://prometheus.io/docs/alerting/latest/clients/): ``POST /api/v2/alerts`` with a
JSON list of alerts, each with labels (what identifies the alert), annotations
(replaced by the latest post), ``startsAt`` and ``endsAt``. Here:

- labels: ``alertname`` and ``code`` (the fault code), ``site``, ``device``,
  ``severity`` (``L1``..``L4``), ``customer``, and ``ticket_id``, so two tickets of
  one kind on one device stay two alerts;
- annotations: ``title``, ``summary`` (the title too, the name most receivers'
  templates show), ``description`` (the ticket's facts, one a line),
  ``response_due``, ``onsite_due``, ``loaner_due`` and who acknowledged, when
  someone arrived, ``event`` and ``event_id``;
- ``startsAt``: when the fault occurred; ``endsAt``: on a resolve, when it was
  resolved; otherwise ``resend`` x 4 from now.

"Clients are expected to continuously re-send alerts as long as they are still
active": Alertmanager keeps alerts in memory only (a restart of it forgets them) and
resolves one whose ``endsAt`` has passed. So `maintain` posts every open ticket's
last delivered event again each ``resend``, from the ledger (after a restart of the
center too), holding it active for four times as long, as Prometheus does
(``4 * resend delay``): three missed re-posts in a row before an alert lapses.

When a ticket's level changes, its alert's labels change: the update posts the
alert of the former level as resolved beside the new one. A ticket whose level moved
out of the adapter's ``levels`` is no longer re-posted, so its alert lapses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from center.adapters.http import HttpClient
from center.adapters.text import describe, plain
from center.config import Alertmanager
from center.ledger import Delivery, LedgerStore

log = logging.getLogger("lvgw-center.alertmanager")

HOLD_FACTOR = 4  # each post holds an open alert active for resend x this
BATCH = 100  # alerts per re-post request


def rfc3339(moment: float | str) -> str:
    """Alertmanager's time format (RFC 3339) of a Unix time or of an event's time."""
    if isinstance(moment, str):
        parsed = datetime.fromisoformat(moment)
    else:
        parsed = datetime.fromtimestamp(moment, UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def labels_of(event: dict[str, Any], severity: int) -> dict[str, str]:
    code = event["fault"]["code"]
    return {
        "alertname": code,
        "code": code,
        "site": event["site"]["id"],
        "device": event["device"]["id"],
        "severity": f"L{severity}",
        "customer": event["site"]["customer"]["name"],
        "ticket_id": event["ticket_id"],
    }


def annotations_of(event: dict[str, Any]) -> dict[str, str]:
    found = {
        "title": event["title"],
        "summary": event["title"],
        "description": plain(describe(event)).strip(),
        "response_due": event["response_due"],
        "onsite_due": event.get("onsite_due"),
        "loaner_due": event.get("loaner_due"),
        "arrived_at": event.get("arrived_at"),
        "event": event["event"],
        "event_id": event["event_id"],
    }
    acknowledged = event.get("acknowledged")
    if acknowledged:
        found["acknowledged_by"] = acknowledged["by"]
        found["acknowledged_at"] = acknowledged["at"]
    return {name: str(value) for name, value in found.items() if value is not None}


def alerts_of(event: dict[str, Any], now: float, hold: float) -> list[dict[str, Any]]:
    """The alerts one ticket event posts: its own, and on a change of level the
    former level's, resolved."""
    starts = rfc3339(event["occurred_at"])
    if event["event"] == "resolve":
        ends = rfc3339(event.get("resolved_at") or event["emitted_at"])
    else:
        ends = rfc3339(now + hold)
    ends = max(ends, starts, key=_instant)  # Alertmanager refuses an end before the start
    found = [
        {
            "labels": labels_of(event, event["severity"]),
            "annotations": annotations_of(event),
            "startsAt": starts,
            "endsAt": ends,
        }
    ]
    previous = event.get("previous_severity")
    if previous is not None and previous != event["severity"]:
        ended = max(rfc3339(now), starts, key=_instant)
        found.append(
            {
                "labels": labels_of(event, previous),
                "annotations": annotations_of(event),
                "startsAt": starts,
                "endsAt": ended,
            }
        )
    return found


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


class AlertmanagerAdapter:
    def __init__(self, settings: Alertmanager, store: LedgerStore) -> None:
        self.name = settings.name
        self.settings = settings
        self.store = store
        self.endpoint = settings.url.rstrip("/") + "/api/v2/alerts"
        self.hold = settings.resend * HOLD_FACTOR
        self._http = HttpClient(settings.timeout)
        # Sends and re-posts one at a time: a re-post read from the ledger must not
        # overtake the event being sent (it is marked delivered only after `send`).
        self._lock = asyncio.Lock()
        self._sent_seq: dict[str, int] = {}  # ticket -> last seq sent by this process
        self._resend_failing = False

    async def send(self, delivery: Delivery) -> None:
        event = json.loads(delivery.payload)
        async with self._lock:
            await self._post(alerts_of(event, time.time(), self.hold))
            if event["event"] == "resolve":
                self._sent_seq.pop(event["ticket_id"], None)
            else:
                self._sent_seq[event["ticket_id"]] = event["seq"]

    async def maintain(self) -> None:
        while True:
            try:
                await self.resend_open()
            except Exception as exc:  # the ledger failing: the next round tries again
                log.error("adapter %s: re-posting open alerts: %s", self.name, exc)
            await asyncio.sleep(self.settings.resend)

    async def resend_open(self) -> int:
        """Post every open ticket's alert again; returns how many were posted."""
        async with self._lock:
            events = [json.loads(d.payload) for d in await self.store.open_delivered(self.name)]
            # One this process sent since it was marked delivered is newer than the
            # ledger's; it was just posted.
            events = [e for e in events if self._sent_seq.get(e["ticket_id"], 0) <= e["seq"]]
            now = time.time()
            alerts = [alerts_of(e, now, self.hold)[0] for e in events]
            try:
                for start in range(0, len(alerts), BATCH):
                    await self._post(alerts[start : start + BATCH])
            except Exception as exc:
                if not self._resend_failing:
                    log.warning("adapter %s: re-posting %d open alerts failed, will retry: %s",
                                self.name, len(alerts), exc)  # fmt: skip
                self._resend_failing = True
                return 0
            if self._resend_failing:
                log.info("adapter %s: re-posting open alerts works again", self.name)
            self._resend_failing = False
            return len(alerts)

    async def _post(self, alerts: list[dict[str, Any]]) -> None:
        if not alerts:
            return
        body = json.dumps(alerts).encode()
        answer = await self._http.post(self.endpoint, body, {"Content-Type": "application/json"})
        if not answer.ok:
            error = answer.failure()
            detail = answer.body[:200].decode(errors="replace").strip()
            raise type(error)(f"{error}: {detail}" if detail else str(error))

    async def close(self) -> None:
        await self._http.close()
