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

An Alertmanager cluster is named by the URL of each of its instances: each post goes
to all of them, as Alertmanager's documentation asks of clients (never one behind a
load balancer); an event is delivered when one of them took it, and one that missed
it has it at the next re-post.

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

from center.adapters import DeliveryError
from center.adapters.http import HttpClient, tls_context
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
        self.endpoints = [url.rstrip("/") + "/api/v2/alerts" for url in settings.url]
        self.hold = settings.resend * HOLD_FACTOR
        self._http = HttpClient(settings.timeout, tls_context(settings.tls))
        # Sends and re-posts one at a time: a re-post read from the ledger must not
        # overtake the event being sent (it is marked delivered only after `send`).
        self._lock = asyncio.Lock()
        self._sent_seq: dict[str, int] = {}  # ticket -> last seq sent by this process
        self._failing: set[str] = set()  # endpoints whose last post failed (logged once)

    async def send(self, delivery: Delivery) -> None:
        """Delivered when one Alertmanager of a cluster took it (they share it among
        themselves; one that missed it has it at the next re-post)."""
        event = json.loads(delivery.payload)
        async with self._lock:
            await self._post_all(alerts_of(event, time.time(), self.hold), to_one=True)
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
            for start in range(0, len(alerts), BATCH):
                await self._post_all(alerts[start : start + BATCH], to_one=False)
            return len(alerts)

    async def _post_all(self, alerts: list[dict[str, Any]], *, to_one: bool) -> None:
        """Post to every endpoint at once. With ``to_one``, fail (DeliveryError) only
        when none took them; each endpoint that fails or recovers is logged once."""
        if not alerts:
            return
        body = json.dumps(alerts).encode()
        results = await asyncio.gather(
            *(self._post(endpoint, body) for endpoint in self.endpoints), return_exceptions=True
        )
        errors = {e: r for e, r in zip(self.endpoints, results, strict=True) if r is not None}
        for error in errors.values():
            if not isinstance(error, DeliveryError):
                raise error
        if to_one and len(errors) == len(self.endpoints):
            raise DeliveryError("; ".join(f"{e}: {r}" for e, r in errors.items()))
        for endpoint in self.endpoints:
            if endpoint in errors and endpoint not in self._failing:
                log.warning("adapter %s: %s failed, will post to it again: %s",
                            self.name, endpoint, errors[endpoint])  # fmt: skip
                self._failing.add(endpoint)
            elif endpoint not in errors and endpoint in self._failing:
                log.info("adapter %s: %s takes alerts again", self.name, endpoint)
                self._failing.discard(endpoint)

    async def _post(self, endpoint: str, body: bytes) -> None:
        answer = await self._http.post(endpoint, body, {"Content-Type": "application/json"})
        if not answer.ok:
            error = answer.failure()
            detail = answer.body[:200].decode(errors="replace").strip()
            raise DeliveryError(f"{error}: {detail}" if detail else str(error))

    async def close(self) -> None:
        await self._http.close()
