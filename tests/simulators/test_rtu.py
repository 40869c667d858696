"""An alarm panel on a serial line (Modbus RTU), read by mbpoll through a socat
pseudo-terminal pair."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realservers import Server, which
from tests.simulators.conftest import SimFleet, free_port_on, registers


class PtyPair(Server):
    """socat linking two pseudo-terminals: the panel opens one end, mbpoll the other."""

    name = "socat"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.panel_end = workdir / "panel-tty"
        self.client_end = workdir / "client-tty"

    def command(self) -> list[str]:
        return [which("socat"), f"pty,raw,echo=0,link={self.panel_end}",
                f"pty,raw,echo=0,link={self.client_end}"]  # fmt: skip

    def ready(self) -> bool:
        return self.panel_end.exists() and self.client_end.exists()


@pytest.fixture
def rtu_panel(tmp_path: Path) -> Iterator[tuple[SimFleet, Path]]:
    pair = PtyPair(tmp_path / "pty")
    pair.start()
    port = free_port_on("127.0.0.1")
    fleet = (
        "devices:\n"
        f"  - {{id: sw, kind: switch, port: {port}, ports: 4}}\n"
        f"  - {{id: panel, kind: alarm_panel, zones: 8, modbus: {{unit: 5, serial: "
        f"{{port: {pair.panel_end}, baudrate: 19200}}}}}}\n"
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
    assert sim.client.devices()[1]["endpoint"] == f"rtu:{tty.parent / 'panel-tty'}"
