"""Finding 3 on a real gateway: with a command key, an unsigned or replayed
``cmd/maintenance`` changes nothing, and `lvgw maintenance --broker` signs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.hostile.gateway_process import PREFIX, gateway_under_attack, write_site
from tests.realservers import Mosquitto, Snmpd

pytestmark = pytest.mark.integration


async def lvgw_maintenance(site: Path, broker: Mosquitto, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "maintenance", *args, "-c", str(site),
        "--broker", f"127.0.0.1:{broker.port}",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def next_json(client: aiomqtt.Client) -> tuple[str, dict[str, Any]]:
    message = await asyncio.wait_for(anext(aiter(client.messages)), 15)
    return str(message.topic), json.loads(bytes(message.payload))


async def test_only_signed_fresh_commands_change_maintenance(
    tmp_path: Path, mosquitto: Mosquitto, snmpd: Snmpd
) -> None:
    key = tmp_path / "command.key"
    key.write_text("a-long-random-key-of-the-service-center\n")
    key.chmod(0o600)
    site = write_site(tmp_path, mosquitto, snmpd, key_file=key)
    windows = tmp_path / "state" / "maintenance.json"
    async with (
        gateway_under_attack(site, mosquitto),
        aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="intruder") as intruder,
    ):
        await intruder.subscribe(PREFIX + "cmd/maintenance", qos=1)
        await intruder.subscribe(PREFIX + "cmd-reply/maintenance", qos=1)
        silence = {"action": "set", "target": "site", "for": "2h", "by": "x", "request_id": "i1"}
        await intruder.publish(PREFIX + "cmd/maintenance", json.dumps(silence), qos=1)
        assert (await next_json(intruder))[1] == silence  # its own message comes back
        topic, reply = await next_json(intruder)
        assert topic == PREFIX + "cmd-reply/maintenance"
        assert reply["ok"] is False and reply["error"].startswith("unauthenticated: "), reply
        assert not windows.exists()

        # The service center's signed command, through `lvgw maintenance --broker`.
        code, out = await lvgw_maintenance(
            site, mosquitto, "set", "site", "--for", "2h", "--by", "Li Wei", "--reason", "visit"
        )
        assert code == 0, out
        assert "the site in maintenance until" in out
        assert json.loads(windows.read_text())["windows"][0]["by"] == "Li Wei"
        topic, signed = await next_json(intruder)  # the intruder saw it go by...
        assert topic == PREFIX + "cmd/maintenance" and "sig" in signed
        assert (await next_json(intruder))[1]["ok"] is True

        # ...and replays it, after the center ended the window.
        code, out = await lvgw_maintenance(site, mosquitto, "clear", "site")
        assert code == 0, out
        await next_json(intruder)
        await next_json(intruder)
        await intruder.publish(PREFIX + "cmd/maintenance", json.dumps(signed), qos=1)
        await next_json(intruder)
        _, reply = await next_json(intruder)
        assert reply["error"].startswith("unauthenticated: replayed"), reply
        assert json.loads(windows.read_text())["windows"] == []

        # With another key `lvgw maintenance --broker` is refused like anyone else.
        wrong = tmp_path / "wrong.key"
        wrong.write_text("not-the-key\n")
        code, out = await lvgw_maintenance(
            site, mosquitto, "set", "site", "--for", "1h", "--by", "x", "--key-file", str(wrong)
        )
        assert code == 2 and "unauthenticated: bad signature" in out, out
