"""An alarm panel on a serial line (Modbus RTU), read by mbpoll through a socat
pseudo-terminal pair (the Modbus driver tests' pair)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.drivers.modbus.conftest import SocatPtyPair
from tests.realservers import which
from tests.simulators.conftest import SimFleet, free_port_on, registers

pytestmark = pytest.mark.integration


@pytest.fixture
def rtu_panel(tmp_path: Path) -> Iterator[tuple[SimFleet, Path]]:
    pair = SocatPtyPair(tmp_path / "pty")
    pair.start()
    port = free_port_on("127.0.0.1")
    fleet = (
        "devices:\n"
        f"  - {{id: sw, kind: switch, port: {port}, ports: 4}}\n"
        f"  - {{id: panel, kind: alarm_panel, zones: 8, modbus: {{unit: 5, serial: "
        f"{{port: {pair.server_end}, baudrate: 19200}}}}}}\n"
    )
    sim = SimFleet(tmp_path / "sim", fleet)
    try:
        sim.start(timeout=20)
        yield sim, pair.client_end
    finally:
        sim.stop()
        pair.stop()


def test_panel_over_rtu(rtu_panel: tuple[SimFleet, Path]) -> None:
    sim, tty = rtu_panel

    def read() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [which("mbpoll"), "-m", "rtu", "-b", "19200", "-P", "none", "-a", "5", "-0",
             "-r", "0", "-c", "24", "-t", "4", "-1", "-o", "1", str(tty)],
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip

    result = read()
    assert result.returncode == 0, result.stdout + result.stderr
    words = registers(result.stdout)
    assert [words[0], words[1], words[2], words[6]] == [16, 1365, 8, 1]
    sim.client.inject("panel", "zone_fault", {"zone": "8"})
    assert registers(read().stdout)[23] == 4
    assert sim.client.devices()[1]["endpoint"] == f"rtu:{tty.parent / 'server-tty'}"
