"""Traps declared by name: net-snmp's snmptrap -> the trap receiver -> the reading of
the trap the profile names, for an SMIv2 NOTIFICATION-TYPE (UPS-MIB, shipped) and an
SMIv1 TRAP-TYPE (a vendor's MIB compiled for the site)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from drivers.snmp.traps import TrapReceiver
from drivers.tasks import stop_task
from gateway.config import LoadedConfig, load_config
from gateway.config.protocols.snmp import traps_settings
from gateway.mibs.compiler import compile_files
from gateway.poller.result import PollResult
from gateway.protocols.snmp.traps import TrapIntake, receiver_config
from tests.realservers import free_port, which
from tests.traps.test_intake import send

pytestmark = pytest.mark.integration

# An SMIv1 module as vendors still write them: its trap is enterprise.0.specific once
# converted to SNMPv2 (RFC 3584 section 3.1), the form the receiver hands on.
ACME_MIB = """\
ACME-UPS-MIB DEFINITIONS ::= BEGIN
IMPORTS enterprises FROM RFC1155-SMI
        OBJECT-TYPE FROM RFC-1212
        TRAP-TYPE FROM RFC-1215;
acme OBJECT IDENTIFIER ::= { enterprises 99999 }
acmeState OBJECT-TYPE
    SYNTAX INTEGER { ok(1), failed(2) }
    ACCESS read-only
    STATUS mandatory
    DESCRIPTION "The state."
    ::= { acme 1 }
acmeFailed TRAP-TYPE
    ENTERPRISE acme
    VARIABLES { acmeState }
    DESCRIPTION "It failed."
    ::= 3
END
"""

PROFILE = """\
description: a UPS whose traps are named
kinds: [ups]
protocol: snmp
points:
  state: {oid: ACME-UPS-MIB::acmeState.0, states: {1: ok, 2: failed}}
traps:
  on_battery:
    oid: UPS-MIB::upsTrapOnBattery
    values: {minutes_remaining: UPS-MIB::upsEstimatedMinutesRemaining}
  failed:
    oid: ACME-UPS-MIB::acmeFailed
    values: {state: ACME-UPS-MIB::acmeState}
"""


def site(tmp_path: Path, port: int) -> LoadedConfig:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "ACME-UPS-MIB.txt").write_text(ACME_MIB)
    compile_files([tmp_path / "src" / "ACME-UPS-MIB.txt"], [], tmp_path / "vendor-mibs")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "ups-named.yaml").write_text(PROFILE)
    path = tmp_path / "site.yaml"
    path.write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        "agent: {mib_dirs: [vendor-mibs]}\n"
        f"traps: {{listen: '127.0.0.1:{port}', communities: [traps-ok]}}\n"
        "devices:\n"
        "  - {id: ups-1, kind: ups, profile: ups-named, address: 127.0.0.1}\n"
    )
    return load_config(path)


async def test_traps_named_from_mibs_become_their_readings(tmp_path: Path) -> None:
    port = free_port(kind=2)  # SOCK_DGRAM
    config = site(tmp_path, port)
    traps = traps_settings(config.site_file)
    assert traps is not None
    out: asyncio.Queue[PollResult] = asyncio.Queue()
    intake = TrapIntake(config, out, lambda _device: None)
    async with TrapReceiver(receiver_config(traps)) as receiver:
        task = asyncio.create_task(intake.run(receiver), name="test-named-traps")
        try:
            # RFC 1628: upsTrapOnBattery is upsTraps 1 (1.3.6.1.2.1.33.2.1), its first
            # object upsEstimatedMinutesRemaining upsBattery 3.
            await send(
                which("snmptrap"), "-v", "2c", "-c", "traps-ok", f"127.0.0.1:{port}", "",
                "1.3.6.1.2.1.33.2.1", "1.3.6.1.2.1.33.1.2.3.0", "i", "12",
            )  # fmt: skip
            result = await asyncio.wait_for(out.get(), 5)
            values = {r.point: r.value for r in result.readings}
            assert values == {"trap.on_battery": True, "trap.on_battery.minutes_remaining": 12}
            # The vendor's SMIv1 trap, sent as SNMPv1: enterprise acme, specific 3.
            await send(
                which("snmptrap"), "-v", "1", "-c", "traps-ok", f"127.0.0.1:{port}",
                "1.3.6.1.4.1.99999", "127.0.0.1", "6", "3", "", "1.3.6.1.4.1.99999.1.0", "i", "2",
            )  # fmt: skip
            result = await asyncio.wait_for(out.get(), 5)
            values = {r.point: r.value for r in result.readings}
            assert values == {"trap.failed": True, "trap.failed.state": 2}
        finally:
            await stop_task(task)
