"""Acceptance: a profile that names UCD-SNMP-MIB objects, compiled from the MIB file
Debian ships with net-snmp, polls net-snmp's real snmpd and reads what snmpget reads."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.snmp.driver import SnmpDriver
from gateway.config import LoadedConfig, load_config
from gateway.protocols.snmp.reader import SnmpPointReader
from tests.realservers import Snmpd, which

pytestmark = pytest.mark.integration

UCD = Path("/usr/share/snmp/mibs/UCD-SNMP-MIB.txt")  # Debian: libsnmp-base

PROFILE = """\
description: a Linux host's net-snmp agent, named from UCD-SNMP-MIB
kinds: [switch]
protocol: snmp
points:
  mem.total_real: {oid: UCD-SNMP-MIB::memTotalReal.0, type: int, unit: kB}
  mem.total_swap: {oid: UCD-SNMP-MIB::memTotalSwap.0, type: int, unit: kB}
  mem.error_name: {oid: UCD-SNMP-MIB::memErrorName.0, type: text}
  mem.swap_error: {oid: UCD-SNMP-MIB::memSwapError.0, type: int, states: {0: ok, 1: error}}
  cpu.count: {oid: UCD-SNMP-MIB::ssCpuNumCpus.0, type: int}
tables:
  load:
    instance: average
    columns:
      names: {oid: UCD-SNMP-MIB::laNames, type: text}
      threshold: {oid: UCD-SNMP-MIB::laConfig, type: text}
"""

# The same objects by number, as UCD-SNMP-MIB defines them (ucdavis is enterprises
# 2021; memory ucdavis 4: memTotalSwap 3, memTotalReal 5, memErrorName 2, memSwapError
# 100; systemStats ucdavis 11: ssCpuNumCpus 67; laEntry laTable (ucdavis 10) 1: laNames
# 2, laConfig 4), for snmpget, which reads no MIB here.
SCALARS = {
    "mem.total_real": "1.3.6.1.4.1.2021.4.5.0",
    "mem.total_swap": "1.3.6.1.4.1.2021.4.3.0",
    "mem.error_name": "1.3.6.1.4.1.2021.4.2.0",
    "mem.swap_error": "1.3.6.1.4.1.2021.4.100.0",
    "cpu.count": "1.3.6.1.4.1.2021.11.67.0",
}
COLUMNS = {"load.names": "1.3.6.1.4.1.2021.10.1.2", "load.threshold": "1.3.6.1.4.1.2021.10.1.4"}


def snmpget(agent: Snmpd, *oids: str) -> list[str]:
    """The values net-snmp's snmpget reads, as it prints them (-Oqv: values only)."""
    result = subprocess.run(
        [which("snmpget"), "-v2c", "-c", "public", "-m", "", "-M", "/nonexistent", "-Oqv",
         "-Ot", f"{agent.host}:{agent.port}", *oids],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return [line.strip().strip('"') for line in result.stdout.splitlines()]


def site_with_ucd_names(tmp_path: Path, port: int) -> LoadedConfig:
    """A site of one device whose profile names UCD-SNMP-MIB objects, the MIB compiled
    by `lvgw mib compile` into mibs/ beside the site file (so no mib_dirs is needed)."""
    assert UCD.is_file(), "libsnmp-base (a dependency of snmpd) ships UCD-SNMP-MIB"
    compiled = subprocess.run(
        [sys.executable, "-m", "gateway", "mib", "compile", str(UCD), "-o", str(tmp_path / "mibs")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stderr
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "host-ucd.yaml").write_text(PROFILE)
    (tmp_path / "site.yaml").write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        "devices:\n"
        f"  - {{id: host, kind: switch, profile: host-ucd, address: 127.0.0.1, port: {port}}}\n"
    )
    config = load_config(tmp_path / "site.yaml")
    # Names are resolved as the profile loads, never while polling: without the
    # compiled MIB the poll below reads the same.
    shutil.rmtree(tmp_path / "mibs")
    return config


async def test_ucd_snmp_mib_names_read_what_snmpget_reads(tmp_path: Path, snmpd: Snmpd) -> None:
    config = site_with_ucd_names(tmp_path, snmpd.port)
    device = config.devices[0]
    driver = SnmpDriver()
    try:
        result = await SnmpPointReader(device, config.profile_of(device), driver).poll()
    finally:
        await driver.close()
    assert result.reachable, result.error
    ours = {(r.point, r.instance): r.value for r in result.readings}

    expected = dict(zip(SCALARS, snmpget(snmpd, *SCALARS.values()), strict=True))
    assert ours[("mem.total_real", "")] == int(expected["mem.total_real"]) > 0
    assert ours[("mem.total_swap", "")] == int(expected["mem.total_swap"])
    assert ours[("mem.error_name", "")] == expected["mem.error_name"] == "swap"
    assert ours[("mem.swap_error", "")] == {"0": "ok", "1": "error"}[expected["mem.swap_error"]]
    assert ours[("cpu.count", "")] == int(expected["cpu.count"]) > 0
    # laTable: three rows (1, 5 and 15 minutes), indexed 1..3.
    for instance in ("1", "2", "3"):
        for point, column in COLUMNS.items():
            (value,) = snmpget(snmpd, f"{column}.{instance}")
            assert ours[(point, instance)] == value
    assert [ours[("load.names", i)] for i in ("1", "2", "3")] == ["Load-1", "Load-5", "Load-15"]
