"""net-snmp's snmptrap/snmpinform -> the trap receiver -> readings of the right device."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest

from drivers.snmp.traps import TrapReceiver
from drivers.tasks import stop_task
from gateway.config import load_config
from gateway.config.load import LoadedConfig
from gateway.config.protocols.snmp import traps_settings
from gateway.poller.result import PollResult
from gateway.protocols.registry import Drivers
from gateway.protocols.snmp.traps import TrapIntake, receiver_config
from tests.realservers import free_port, which

pytestmark = pytest.mark.integration

LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"


def site(tmp_path: Path, port: int) -> LoadedConfig:
    (tmp_path / "auth.key").write_text("trapauth123\n")
    (tmp_path / "priv.key").write_text("trappriv123\n")
    path = tmp_path / "site.yaml"
    path.write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        f"traps: {{listen: '127.0.0.1:{port}', communities: [traps-ok],"
        " v3_users: [{user: trapper, auth: sha, auth_key_file: auth.key, priv: aes,"
        " priv_key_file: priv.key}]}\n"
        "devices:\n"
        "  - {id: sw-a, kind: switch, profile: switch-generic, address: 127.0.0.1}\n"
        "  - {id: ups-1, kind: ups, profile: ups-rfc1628, address: 127.0.0.9}\n"
    )
    return load_config(path)


async def send(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(*args, stderr=subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()


async def test_traps_become_readings_of_their_device_within_100_ms(tmp_path: Path) -> None:
    port = free_port(kind=2)  # SOCK_DGRAM
    config = site(tmp_path, port)
    traps = traps_settings(config.site_file)
    assert traps is not None
    out: asyncio.Queue[PollResult] = asyncio.Queue()
    polled: list[str] = []
    intake = TrapIntake(config, out, polled.append)
    async with TrapReceiver(receiver_config(traps)) as receiver:
        task = asyncio.create_task(intake.run(receiver), name="test-trap-intake")
        try:
            await send(
                which("snmptrap"), "-v", "2c", "-c", "traps-ok", f"127.0.0.1:{port}", "",
                LINK_DOWN, "1.3.6.1.2.1.2.2.1.1.7", "i", "7", "1.3.6.1.2.1.2.2.1.7.7", "i", "1",
                "1.3.6.1.2.1.2.2.1.8.7", "i", "2",
            )  # fmt: skip
            sent = time.monotonic()
            result = await asyncio.wait_for(out.get(), 2)
            assert time.monotonic() - sent < 0.1
            assert result.device == "sw-a"
            assert result.source == "trap"
            values = {(r.point, r.instance): r.value for r in result.readings}
            assert values == {
                ("trap.link_down", "7"): True,
                ("trap.link_down.admin_status", "7"): 1,
                ("trap.link_down.oper_status", "7"): 2,
            }
            assert polled == ["sw-a"]  # an immediate poll was asked for

            # An SNMPv3 inform (acknowledged, so snmpinform exits 0 only if received).
            await send(
                which("snmpinform"), "-v", "3", "-u", "trapper", "-l", "authPriv", "-a", "SHA",
                "-A", "trapauth123", "-x", "AES", "-X", "trappriv123", f"127.0.0.1:{port}", "",
                "1.3.6.1.6.3.1.1.5.1",
            )  # fmt: skip
            cold = await asyncio.wait_for(out.get(), 2)
            assert [r.point for r in cold.readings] == ["trap.cold_start"]

            # A wrong community is dropped by the receiver; nothing arrives.
            await send(
                which("snmptrap"), "-v", "2c", "-c", "nope", f"127.0.0.1:{port}", "", LINK_DOWN
            )
            # An unknown sender (a device address not in the site) is counted, not trusted.
            await send(
                which("snmptrap"), "-v", "2c", "-c", "traps-ok", "--clientaddr=127.0.0.77",
                f"127.0.0.1:{port}", "", LINK_DOWN,
            )  # fmt: skip
            async with asyncio.timeout(2):
                while intake.unknown_senders["127.0.0.77"] == 0:
                    await asyncio.sleep(0.01)
            assert out.empty()
            assert receiver.stats().rejected >= 1
        finally:
            await stop_task(task)


async def test_snmps_push_source_in_the_registry_reads_traps_and_asks_for_a_poll(
    tmp_path: Path,
) -> None:
    """What the agent runs: the registry's push source of a site with ``traps:``."""
    port = free_port(kind=2)  # SOCK_DGRAM
    config = site(tmp_path, port)
    async with Drivers(config) as drivers:
        (source,) = drivers.push_sources()
        assert source.name == "traps"
        await source.start()
        out: asyncio.Queue[PollResult] = asyncio.Queue()
        polled: list[str] = []
        task = asyncio.create_task(source.run(out, polled.append), name="test-trap-source")
        try:
            await send(
                which("snmptrap"), "-v", "2c", "-c", "traps-ok", f"127.0.0.1:{port}", "",
                LINK_DOWN, "1.3.6.1.2.1.2.2.1.1.3", "i", "3",
            )  # fmt: skip
            result = await asyncio.wait_for(out.get(), 2)
            assert (result.device, result.source) == ("sw-a", "trap")
            assert [(r.point, r.instance) for r in result.readings] == [("trap.link_down", "3")]
            assert polled == ["sw-a"]
        finally:
            await stop_task(task)
            await source.close()
