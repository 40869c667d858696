"""The site for someone who is not at the box: ``cmd/report`` and ``cmd/status`` asked
over the broker of the running gateway (`lvgw run` on the simulated fleet, real
mosquitto), answered with what `lvgw report` and `lvgw status --json` print on the box."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from center.ledger import Ledger
from gateway.remote import send_command
from tests.e2e.conftest import FleetSite, lvgw_status

SITE = "site-e2e"
REPLY_BYTES = 8192  # the fleet's HTML report (about 17 kB) comes in several parts
HEALTH_EVERY = 3.0  # the health topic at most this often (60 s by default)
SITE_FILE_CHANGES = {
    "limits": {"mqtt_reply_bytes": REPLY_BYTES},
    "uplink": {"health_every": f"{HEALTH_EVERY:g}s"},
}
NO_HISTORY = "no history in the metric store"
# Figures move between two readings of the running site (the time, "last poll 1s
# ago", a round trip time, a device's clock): two reports are compared with every
# figure replaced by a mark, everything else (devices, states, sections, wording) equal.
FIGURES = re.compile(r"\d(?:[\d,.]*\d)?")


def broker_of(site: FleetSite) -> int:
    port: int = yaml.safe_load(site.config.read_text())["uplink"]["mqtt"]["port"]
    return port


async def ask(site: FleetSite, name: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return await send_command("127.0.0.1", broker_of(site), SITE, name, body, wait=30, **kw)


async def lvgw_report(config: Path, fmt: str, *options: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "report", "-c", str(config), "--format", fmt, *options,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_status_over_mqtt_is_lvgw_status_json(site: FleetSite) -> None:
    # The snapshot is rewritten every 5 s, and `lvgw status` may take longer than that to
    # start on a loaded machine: the two are compared but for their figures (times,
    # readings, counters); every key, device, state and ticket must be the same.
    reply = await ask(site, "status", {})
    local = json.loads(await lvgw_status(site.config, "--json"))
    assert reply["ok"] is True, reply
    assert reply["status"]["agent_state"] == local["agent_state"] == "running"
    mqtt, box = (FIGURES.sub("T", json.dumps(s, sort_keys=True)) for s in (reply["status"], local))
    assert mqtt == box
    assert [d["id"] for d in reply["status"]["devices"]] == [d["id"] for d in local["devices"]]


async def test_report_over_mqtt_is_lvgw_reports(site: FleetSite) -> None:
    # The metric store writes its first samples a few seconds after the start (one flush
    # for every device): until then a report made a moment later can have history the
    # other lacked. Waited for on a polled switch: panel-sia's points are all states,
    # which have no trend, so the site's report says "no history" for it whatever the
    # store holds.
    async with asyncio.timeout(60):
        while NO_HISTORY in await lvgw_report(site.config, "md", "--device", "sw-core"):
            await asyncio.sleep(1)
    for fmt in ("md", "html", "json"):
        reply = await ask(site, "report", {"format": fmt}, joined="report")
        local = await lvgw_report(site.config, fmt)
        assert reply["ok"] is True and reply["format"] == fmt, reply
        assert FIGURES.sub("T", reply["report"]) == FIGURES.sub("T", local), fmt
    document = json.loads(reply["report"])
    assert {d["id"] for d in document["devices"]} >= {"nvr", "pbx", "ups", "panel"}


async def test_a_report_larger_than_a_message_comes_in_parts(site: FleetSite) -> None:
    """The HTML report of the fleet is over the site's reply limit: several parts, each
    within the limit, numbered in order (their joining: the test above)."""
    parts: list[dict[str, Any]] = []
    replies = await collect_report(broker_of(site), "html", parts)
    assert replies["ok"] is True
    assert len(parts) >= 2, [len(json.dumps(p)) for p in parts]
    assert all(len(json.dumps(p).encode()) <= REPLY_BYTES for p in parts)
    assert [p["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert {p["parts"] for p in parts} == {len(parts)}


async def collect_report(port: int, fmt: str, into: list[dict[str, Any]]) -> dict[str, Any]:
    """The raw parts of one report, as they arrive, through a client of our own."""
    import aiomqtt

    prefix = f"lvgw/v1/{SITE}/"
    async with aiomqtt.Client("127.0.0.1", port, identifier="parts-reader") as client:
        await client.subscribe(prefix + "cmd-reply/report", qos=1)
        await client.publish(
            prefix + "cmd/report", json.dumps({"format": fmt, "request_id": "big"}), qos=1
        )
        async with asyncio.timeout(30):
            async for message in client.messages:
                body = json.loads(bytes(message.payload))
                if body.get("request_id") != "big":
                    continue
                into.append(body)
                if not body.get("ok") or body["part"] == body["parts"]:
                    return dict(body)
    raise AssertionError("unreachable")


async def test_bad_report_requests_get_clear_errors(site: FleetSite) -> None:
    reply = await ask(site, "report", {"format": "pdf"})
    assert reply["ok"] is False and reply["error"].startswith("invalid format"), reply
    reply = await ask(site, "report", {"device": "no-such-device"})
    assert reply == {"ok": False, "error": "no device 'no-such-device' at this site",
                     "request_id": reply["request_id"]}  # fmt: skip
    # The gateway carries on: a good request right after is answered.
    assert (await ask(site, "status", {}))["ok"] is True


# -- the retained health ------------------------------------------------------------


class HealthWatch:
    """The site's ``health`` messages as they come, with when (monotonic)."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, dict[str, Any]]] = []
        self.changed = asyncio.Event()

    async def follow(self, port: int, identifier: str) -> None:
        import aiomqtt

        async with aiomqtt.Client("127.0.0.1", port, identifier=identifier) as client:
            await client.subscribe(f"lvgw/v1/{SITE}/health", qos=1)
            async for message in client.messages:
                body = json.loads(bytes(message.payload))
                self.seen.append((time.monotonic(), {**body, "retained": message.retain}))
                self.changed.set()

    async def until(self, check: Any, timeout: float, what: str) -> dict[str, Any]:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    if self.seen and check(self.seen[-1][1]):
                        return self.seen[-1][1]
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            raise AssertionError(f"no health with {what}; last {self.seen[-1:]}") from None


def cameras(health: dict[str, Any]) -> dict[str, int]:
    return dict(health["devices"]["nvr"].get("cameras", {}))


async def test_health_is_retained_small_and_true(site: FleetSite) -> None:
    watch = HealthWatch()
    task = asyncio.create_task(watch.follow(broker_of(site), "health-reader"))
    try:
        # A newcomer gets the retained one at once.
        health = await watch.until(lambda h: h["retained"], 10, "retained")
        await watch.until(lambda h: cameras(h) == {"online": 4, "total": 4}, 30, "4/4 cameras")
        health = watch.seen[-1][1]
        devices = health["devices"]
        assert devices["nvr"] | {"level": None} == {
            "kind": "nvr", "state": "up", "level": None,
            "cameras": {"online": 4, "total": 4}, "disks": {"healthy": 2, "total": 2},
        }  # fmt: skip
        assert devices["pbx"]["trunks"] == {"up": 2, "total": 2}
        assert devices["ups"]["mains"] == "on"
        assert devices["ups"]["battery"]["charge"] == 100
        assert devices["ups"]["battery"]["status"] == "normal"
        assert devices["ups"]["battery"]["runtime_min"] > 0
        assert devices["panel"]["mains"] == "on" and devices["panel"]["battery"]["low"] is False
        assert devices["panel"]["battery"]["volts"] > 10
        assert devices["sw-core"] == {"kind": "switch", "state": "up", "level": None}
        assert health["totals"]["cameras"] == {"online": 4, "total": 4}
        assert health["totals"]["trunks"] == {"up": 2, "total": 2}
        size = len(json.dumps({k: v for k, v in health.items() if k != "retained"}))
        assert size < 2048, size  # ten devices

        await site.inject("nvr", "camera_offline", channel=2)
        changed = await watch.until(
            lambda h: cameras(h)["online"] == 3 and h["devices"]["nvr"]["level"] == 3,
            30, "3/4 cameras and the camera's L3 ticket",
        )  # fmt: skip
        assert changed["totals"]["cameras"] == {"online": 3, "total": 4}
        await site.clear("nvr", "camera_offline")
        await watch.until(lambda h: cameras(h)["online"] == 4, 30, "the camera back")
        # Never more often than health_every (a little slack for the loop's tick); the
        # first message is the retained one, whenever it was published.
        times = [at for at, _ in watch.seen[1:]]
        assert all(b - a >= HEALTH_EVERY - 0.1 for a, b in itertools.pairwise(times)), times
        # Published only when it changed.
        bodies = [
            {k: v for k, v in h.items() if k not in ("at", "retained")} for _, h in watch.seen
        ]
        assert all(a != b for a, b in itertools.pairwise(bodies[1:]))
    finally:
        task.cancel()
        await site.settle(30)


# -- lvgw-center report ------------------------------------------------------------


def center_yaml(tmp_path: Path, port: int) -> Path:
    Ledger.open(tmp_path / "c.db").close()
    path = tmp_path / "center.yaml"
    path.write_text(
        f"broker: {{host: 127.0.0.1, port: {port}}}\ndatabase: sqlite:///{tmp_path}/c.db\n"
    )
    return path


async def lvgw_center(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "center", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_lvgw_center_report_puts_the_parts_together(site: FleetSite, tmp_path: Path) -> None:
    """The center asks the running gateway; the HTML report comes in parts (8 KiB each)
    and is the one `lvgw report` prints but for moving figures."""
    config = center_yaml(tmp_path, broker_of(site))
    code, out, err = await lvgw_center("report", SITE, "--format", "html", "-c", str(config))
    local = await lvgw_report(site.config, "html")
    assert code == 0, err
    assert len(out.encode()) > REPLY_BYTES  # two parts at least
    assert FIGURES.sub("T", out) == FIGURES.sub("T", local)


async def test_lvgw_center_report_of_an_offline_site_says_when_it_was_last_seen(
    site: FleetSite, tmp_path: Path
) -> None:
    config = center_yaml(tmp_path, broker_of(site))
    ledger = Ledger.open(tmp_path / "c.db")
    ledger.record_status("far-away", {"state": "online", "site": "far-away"}, 1_800_000_000.0)
    ledger.record_status("far-away", {"state": "offline", "site": "far-away"}, 1_800_000_060.0)
    ledger.close()
    started = time.monotonic()
    code, _, err = await lvgw_center("report", "far-away", "-c", str(config))
    assert code == 1
    assert err.strip() == (
        "lvgw-center: no report: site far-away is offline since 2027-01-15 08:01:00Z,"
        " last status at 2027-01-15 08:01:00Z"
    )
    assert time.monotonic() - started < 10  # not waited for
    # A site the center never heard of, whose gateway does not answer: said so in time.
    code, _, err = await lvgw_center("report", "unheard-of", "--wait", "1", "-c", str(config))
    assert code == 1
    assert err.strip() == (
        "lvgw-center: no report from the gateway within 1 s:"
        " site unheard-of has never sent a status to this center"
    )
