"""`lvgw demo` beside another demo: what is taken moves to a free port, the rest stays."""

from __future__ import annotations

import contextlib
import socket
from importlib.resources.abc import Traversable
from pathlib import Path

import pytest
import yaml

from gateway.demo import run
from gateway.demo.ports import fleet_for_demo, status_listen_for_demo

pytestmark = pytest.mark.integration


def held(kind: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    sock.bind(("127.0.0.1", 0))
    if kind == socket.SOCK_STREAM:
        sock.listen()
    return sock


def test_taken_ports_move_and_free_ones_stay(tmp_path: Path) -> None:
    with held(socket.SOCK_DGRAM) as snmp, held(socket.SOCK_STREAM) as modbus:
        taken_snmp, taken_modbus = snmp.getsockname()[1], modbus.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            free = probe.getsockname()[1]
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(
            yaml.safe_dump({
                "defaults": {"port": taken_snmp, "trap_receivers": [f"127.0.0.1:{taken_snmp}"]},
                "devices": [
                    {"id": "sw", "kind": "switch", "address": "127.0.0.1"},
                    {"id": "ups", "kind": "ups", "address": "127.0.0.1", "port": free},
                    {"id": "panel", "kind": "alarm_panel", "address": "127.0.0.1",
                     "port": taken_modbus, "modbus": {"unit": 1}},
                ],
            })
        )  # fmt: skip
        (tmp_path / "work").mkdir()
        served, moved = fleet_for_demo(fleet, tmp_path / "work")
    assert served != fleet
    doc = yaml.safe_load(served.read_text())
    ports = {d["id"]: d.get("port") for d in doc["devices"]}
    assert ports["sw"] not in (None, taken_snmp)
    assert ports["ups"] == free
    assert ports["panel"] != taken_modbus
    assert doc["defaults"]["trap_receivers"] != [f"127.0.0.1:{taken_snmp}"]
    assert len(moved) == 3, moved


@pytest.mark.parametrize("kind", [socket.SOCK_STREAM, socket.SOCK_DGRAM])
def test_a_taken_dc09_receiver_moves_for_every_panel_reporting_there(
    tmp_path: Path, kind: int
) -> None:
    """The receiver listens on TCP and UDP: either one taken moves it."""
    with held(kind) as taken:
        receiver = f"127.0.0.1:{taken.getsockname()[1]}"
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(
            yaml.safe_dump({
                "defaults": {"port": 1161},
                "devices": [
                    {"id": f"panel-{n}", "kind": "alarm_panel", "address": f"127.0.0.{n}",
                     "sia": {"receiver": receiver, "account": f"10{n}"}} for n in (1, 2)
                ],
            })
        )  # fmt: skip
        (tmp_path / "work").mkdir()
        served, moved = fleet_for_demo(fleet, tmp_path / "work")
    doc = yaml.safe_load(served.read_text())
    (new,) = {d["sia"]["receiver"] for d in doc["devices"]}
    assert new != receiver and new.startswith("127.0.0.1:")
    assert all("port" not in d for d in doc["devices"])  # a DC-09 panel listens nowhere
    assert moved == [f"DC-09 receiver {receiver} -> {new}"]


def test_a_taken_status_page_port_is_replaced() -> None:
    with held(socket.SOCK_STREAM) as page:
        port = page.getsockname()[1]
        listen = status_listen_for_demo("127.0.0.1", port)
    assert listen.startswith("127.0.0.1:")
    assert listen != f"127.0.0.1:{port}"


def test_a_taken_manager_interface_port_moves(tmp_path: Path) -> None:
    """A PBX's AMI (or a recorder's ISAPI) listens on a TCP port of its own."""
    with held(socket.SOCK_STREAM) as taken:
        port = taken.getsockname()[1]
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(
            yaml.safe_dump({
                "defaults": {"port": 1161},
                "devices": [{"id": "pbx", "kind": "pbx", "address": "127.0.0.1",
                             "port": free_udp(), "ami": {"port": port, "secret": "s"}}],
            })
        )  # fmt: skip
        (tmp_path / "work").mkdir()
        served, moved = fleet_for_demo(fleet, tmp_path / "work")
    ami = yaml.safe_load(served.read_text())["devices"][0]["ami"]
    assert ami["port"] != port and ami["secret"] == "s"
    assert moved == [f"pbx ami 127.0.0.1:{port} -> {ami['port']}"]


def free_udp() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_port_taken_while_the_simulators_start_is_chosen_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another demo starting at the same moment sees the same ports free and binds one
    first: the simulators fail on it, and the demo chooses again (now it is taken)."""
    doc = yaml.safe_load(run.FLEET.read_text())
    first = doc["devices"][0]
    address, port = first["address"], int(first.get("port", doc["defaults"]["port"]))
    chosen: list[bool] = []

    def blind_at_first(fleet: Traversable, workdir: Path) -> tuple[Traversable, list[str]]:
        chosen.append(True)
        if len(chosen) == 1:  # chosen while the port was still free
            return fleet, []
        return fleet_for_demo(fleet, workdir)

    monkeypatch.setattr(run, "fleet_for_demo", blind_at_first)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other_demo:
        # Held here, or by a demo running on this machine: taken either way.
        with contextlib.suppress(OSError):
            other_demo.bind((address, port))
        proc, site = await run._start_simulators(tmp_path, scripted=False)
        try:
            assert len(chosen) == 2
            devices = {d["id"]: d for d in yaml.safe_load(site.read_text())["devices"]}
            assert devices[first["id"]]["port"] != port
        finally:
            await run._stop(proc)
