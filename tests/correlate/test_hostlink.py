"""The gateway's own link, read from routing and interface tables like the kernel's."""

from __future__ import annotations

from pathlib import Path

from gateway.correlate import HostLink

HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
DEFAULT_ETH0 = "eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
LAN_ETH0 = "eth0\t0000000A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
LAN_ETH1 = "eth1\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"


def tables(tmp_path: Path, routes: str, states: dict[str, str]) -> HostLink:
    (tmp_path / "route").write_text(HEADER + routes)
    for iface, state in states.items():
        (tmp_path / "net" / iface).mkdir(parents=True, exist_ok=True)
        (tmp_path / "net" / iface / "operstate").write_text(state + "\n")
    return HostLink(tmp_path / "route", tmp_path / "net")


def test_up_default_route_is_fine(tmp_path: Path) -> None:
    assert tables(tmp_path, DEFAULT_ETH0 + LAN_ETH0, {"eth0": "up"}).problem() is None


def test_default_route_interface_down(tmp_path: Path) -> None:
    link = tables(tmp_path, DEFAULT_ETH0, {"eth0": "down"})
    assert link() == "network interface of the default route is down: eth0 down"


def test_default_route_gone_after_it_was_seen(tmp_path: Path) -> None:
    link = tables(tmp_path, DEFAULT_ETH0 + LAN_ETH1, {"eth0": "up", "eth1": "up"})
    assert link() is None
    (tmp_path / "route").write_text(HEADER + LAN_ETH1)  # the lease ran out
    assert link() == "the default route is gone"


def test_an_isolated_lan_without_default_route_is_judged_by_its_routes(tmp_path: Path) -> None:
    link = tables(tmp_path, LAN_ETH1, {"eth1": "up"})
    assert link() is None
    (tmp_path / "net" / "eth1" / "operstate").write_text("lowerlayerdown\n")
    assert link() == "network interface with a route is down: eth1 lowerlayerdown"


def test_links_without_carrier_state_count_as_up(tmp_path: Path) -> None:
    assert tables(tmp_path, DEFAULT_ETH0, {"eth0": "unknown"})() is None  # tun, ppp


def test_unreadable_tables_mean_cannot_tell(tmp_path: Path) -> None:
    assert HostLink(tmp_path / "absent", tmp_path / "net")() is None
    assert tables(tmp_path, "garbage line\n", {})() is None
