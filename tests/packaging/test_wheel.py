"""The built wheel is the whole gateway: installed into a clean venv, `lvgw` runs from
any directory with the profiles, example site file and schemas it ships as package data."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import zipfile
from pathlib import Path

import aiomqtt
import pytest

from tests.packaging.conftest import ROOT, Venv, tree_files
from tests.packaging.site import next_status, one_switch_site, status_topic
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration

PACKAGES = ("gateway", "drivers", "simulators")


def package_files() -> set[str]:
    """Every file of the packages in the tree; a link to a directory counts as the files
    in it, under the link's name (gateway/shipped/)."""
    files = set()
    for name in tree_files():
        if name.split("/", 1)[0] not in PACKAGES:
            continue
        path = ROOT / name
        if path.is_dir():
            files |= {f"{name}/{p.relative_to(path)}" for p in path.rglob("*") if p.is_file()}
        else:
            files.add(name)
    return files


def test_the_wheel_holds_every_file_of_the_packages(built_wheel: Path) -> None:
    with zipfile.ZipFile(built_wheel) as wheel:
        shipped = set(wheel.namelist())
    expected = package_files()
    assert {"gateway/shipped/profiles/switch-generic.yaml", "gateway/shipped/site.example.yaml",
            "gateway/shipped/schemas/ticket-event.schema.json"} <= expected  # fmt: skip
    assert expected - shipped == set()
    shipped_profiles = {n for n in shipped if n.startswith("gateway/shipped/profiles/")}
    # the profiles and the parts they include (parts/)
    assert len(shipped_profiles) == len(list((ROOT / "config" / "profiles").rglob("*.yaml")))
    assert "gateway/shipped/profiles/parts/if-mib.yaml" in shipped_profiles


def run(venv: Venv, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv.bin / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_installed_lvgw_checks_a_site_file_from_anywhere(installed: Venv, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(installed, "python", "-c", "import gateway; print(gateway.__file__)", cwd=elsewhere)
    assert Path(where.stdout.strip()).is_relative_to(installed.root), where.stdout + where.stderr
    # The example site file, as the package holds it, copied where no profiles/ lies beside it.
    example = run(
        installed, "python", "-c",
        "from gateway import shipped; print(shipped.site_example().read_text(), end='')",
        cwd=elsewhere,
    )  # fmt: skip
    assert example.stdout == (ROOT / "config" / "site.example.yaml").read_text()
    site = elsewhere / "site.yaml"
    site.write_text(example.stdout)
    result = run(installed, "lvgw", "check-config", "-c", "site.yaml", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (
        "site site-001 is valid: 3 devices (1 alarm_panel, 2 switch), 2 profiles" in result.stdout
    )
    schema = run(
        installed, "python", "-c",
        "from gateway import shipped; print(shipped.schema('ticket-event')['title'])",
        cwd=elsewhere,
    )  # fmt: skip
    assert schema.returncode == 0 and schema.stdout.strip(), schema.stderr


async def test_installed_lvgw_runs_and_stops_cleanly(
    installed: Venv, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    with one_switch_site(tmp_path, mosquitto) as site:
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as client:
            await client.subscribe(status_topic(), qos=1)
            elsewhere = tmp_path / "elsewhere"
            elsewhere.mkdir()
            with (tmp_path / "lvgw.log").open("wb") as log:
                gateway = subprocess.Popen(
                    [str(installed.bin / "lvgw"), "run", "-c", str(site)],
                    cwd=elsewhere, stdout=log, stderr=log,
                )  # fmt: skip
            try:
                async with asyncio.timeout(30):
                    status = await next_status(client)
                assert status["state"] == "online", status
                assert status["site"] == "pkg-site"
                gateway.send_signal(signal.SIGTERM)
                async with asyncio.timeout(20):
                    status = await next_status(client)
                assert (status["state"], status.get("reason")) == ("offline", "shutdown")
                assert await asyncio.to_thread(gateway.wait, 20) == 0
            finally:
                if gateway.poll() is None:
                    gateway.kill()
                    gateway.wait(5)
    log_text = (tmp_path / "lvgw.log").read_text()
    assert "Traceback" not in log_text, log_text


def test_installed_lvgw_compiles_a_mib_and_resolves_its_names(
    installed: Venv, tmp_path: Path
) -> None:
    """The IETF sources and compiled modules ship in the wheel: net-snmp's UCD-SNMP-MIB
    compiles against them, and a profile naming IF-MIB (shipped compiled) and
    UCD-SNMP-MIB (compiled here) objects passes check-config, from any directory."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ucd = "/usr/share/snmp/mibs/UCD-SNMP-MIB.txt"
    compiled = run(installed, "lvgw", "mib", "compile", ucd, "-o", "mibs", cwd=elsewhere)
    assert compiled.returncode == 0, compiled.stderr
    (elsewhere / "profiles").mkdir()
    (elsewhere / "profiles" / "host.yaml").write_text(
        "description: x\nkinds: [switch]\nprotocol: snmp\npoints:\n"
        "  mem: {oid: UCD-SNMP-MIB::memTotalReal.0}\n"
        "tables:\n  ports:\n    instance: port\n    columns:\n"
        "      oper: {oid: IF-MIB::ifOperStatus}\n"
    )
    (elsewhere / "site.yaml").write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        "devices:\n  - {id: h, kind: switch, profile: host, address: 127.0.0.1}\n"
    )
    result = run(installed, "lvgw", "check-config", "-c", "site.yaml", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
