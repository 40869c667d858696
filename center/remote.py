"""``lvgw-center report SITE``: the site's pre-visit report, asked of its gateway over
``cmd/report`` and put together from its numbered parts (docs/mqtt.md, "Reports and
status over MQTT").

The request is signed with the site's command key when CENTER.yaml names one, and
sent on a short connection of its own. A site the ledger last saw offline is not
asked (its gateway would not answer): the answer says since when it is offline. A
gateway that does not answer in time is said so, with when the site was last seen.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from center import broker
from center.commands import command_key
from center.config import CenterFile
from gateway.remote import BadParts, Parts
from gateway.signing import sign

FORMATS = ("md", "html", "json")
DEFAULT_WAIT = 30.0


class NoReport(Exception):
    """Why there is no report: the site is offline, did not answer, or refused."""


@dataclass(frozen=True, slots=True)
class SiteSeen:
    """What the ledger knows of a site: online or not, since when, last status."""

    online: bool
    since: float | None
    updated_at: float | None


def seen(sites: list[dict[str, Any]], site_id: str) -> SiteSeen | None:
    """The site's row of ``lvgw-center sites``, None for a site never heard of."""
    for row in sites:
        if row["site"] == site_id:
            return SiteSeen(bool(row["online"]), row["since"], row["updated_at"])
    return None


def _when(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def last_seen(site_id: str, known: SiteSeen | None) -> str:
    if known is None:
        return f"site {site_id} has never sent a status to this center"
    state = "online" if known.online else "offline"
    return (
        f"site {site_id} is {state} since {_when(known.since)},"
        f" last status at {_when(known.updated_at)}"
    )


async def fetch_report(
    center: CenterFile,
    site_id: str,
    fmt: str,
    device: str | None,
    known: SiteSeen | None,
    wait: float = DEFAULT_WAIT,
) -> str:
    """The report's text, or `NoReport` with why; aiomqtt.MqttError when the broker
    cannot be reached."""
    if known is not None and not known.online:
        raise NoReport(f"no report: {last_seen(site_id, known)}")
    request: dict[str, Any] = {"format": fmt, "request_id": f"report-{secrets.token_hex(8)}"}
    if device is not None:
        request["device"] = device
    key = command_key(center, site_id)
    message = sign(request, key) if key is not None else request
    prefix = f"lvgw/v1/{site_id}/"
    parts = Parts("report")
    async with broker.transient_client(center.broker, "report") as mqtt:
        await mqtt.subscribe(prefix + "cmd-reply/report", qos=1)
        await mqtt.publish(prefix + "cmd/report", json.dumps(message).encode(), qos=1)
        try:
            async with asyncio.timeout(wait):
                async for reply in mqtt.messages:
                    whole = _take(parts, reply.payload, request["request_id"])
                    if whole is not None:
                        return whole
        except TimeoutError:
            pass
    raise NoReport(f"no report from the gateway within {wait:g} s: {last_seen(site_id, known)}")


def _take(parts: Parts, payload: Any, request_id: str) -> str | None:
    try:
        body = json.loads(bytes(payload))
    except (ValueError, TypeError, RecursionError):
        return None
    if not isinstance(body, dict) or body.get("request_id") != request_id:
        return None
    if not body.get("ok"):
        raise NoReport(f"the gateway refused: {body.get('error')}")
    try:
        whole = parts.add(body)
    except BadParts as exc:
        raise NoReport(f"the report's parts do not fit together: {exc}") from None
    return None if whole is None else str(whole["report"])
