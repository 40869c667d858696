"""net-snmp's snmpget, snmpwalk and snmpbulkwalk referee the simulated PBX whose
software stops while its host runs on (fault ``app_stopped``), for the FreeSWITCH
flavour (FREESWITCH-MIB, mod_snmp) and the Asterisk one (ASTERISK-MIB, res_snmp).

Both are AgentX subagents of the host's net-snmp snmpd: the software stopped, its
registration is gone, and snmpd answers as for any OID no registration covers
(noSuchObject to a GET, a walk passes over the subtree) while the host's system group
and HOST-RESOURCES-MIB answer as before. The gateway's reader reads those objects as
absent; the software started again has its uptime from zero."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.model import Quality
from tests.realservers import wait_until
from tests.simulators.conftest import (
    SimFleet,
    free_port_on,
    gateway_poll,
    get,
    snmp,
    ticks,
    values,
    walk,
)

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
HR_SYSTEM_DATE = "1.3.6.1.2.1.25.1.2.0"
NO_SUCH_OBJECT = "No Such Object available on this agent at this OID"
# device -> (the subagent's subtree, its version string and uptime)
SOFTWARE = {
    "fs": ("1.3.6.1.4.1.27880", "1.3.6.1.4.1.27880.1.1.1.0", "1.3.6.1.4.1.27880.1.2.1.0"),
    "ast": ("1.3.6.1.4.1.22736", "1.3.6.1.4.1.22736.1.1.1.0", "1.3.6.1.4.1.22736.1.2.1.0"),
}


@pytest.fixture(scope="module")
def pbxs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SimFleet, dict[str, str], Path]]:
    workdir = tmp_path_factory.mktemp("app-stopped")
    ports = {device: free_port_on(HOST) for device in SOFTWARE}
    fleet = (
        "site: {id: app-stopped}\ndevices:\n"
        f"  - {{id: fs, kind: pbx, model: freeswitch, address: {HOST}, port: {ports['fs']},"
        " trunks: 2, channels_per_trunk: 30}\n"
        f"  - {{id: ast, kind: pbx, address: {HOST}, port: {ports['ast']},"
        " trunks: 2, channels_per_trunk: 30}\n"
    )
    site = workdir / "site.yaml"
    sim = SimFleet(workdir, fleet, ["--write-config", str(site)])
    sim.start(timeout=20)
    try:
        yield sim, {d: f"{HOST}:{p}" for d, p in ports.items()}, site
    finally:
        sim.stop()


@pytest.mark.parametrize("device", sorted(SOFTWARE))
def test_stopped_software_is_no_such_object_while_the_host_answers(
    pbxs: tuple[SimFleet, dict[str, str], Path], device: str
) -> None:
    sim, targets, site = pbxs
    target = targets[device]
    subtree, version, uptime = SOFTWARE[device]
    before = ticks(get(target, uptime)[uptime])
    assert walk(target, subtree)  # running: its subtree is there

    sim.client.inject(device, "app_stopped", {})
    try:
        answer = values(snmp("snmpget", target, SYS_UPTIME, version, uptime).stdout)
        every = walk(target, "1.3.6")
        bulk = walk(target, "1.3.6", bulk=True)
        own = walk(target, subtree)
        result = gateway_poll(site, device)
    finally:
        sim.client.clear(device, "app_stopped", {})
    assert ticks(answer[SYS_UPTIME]) > 0  # the host answers in the same request
    assert (answer[version], answer[uptime]) == (NO_SUCH_OBJECT, NO_SUCH_OBJECT)
    for walked in (every, bulk):  # the walk passes over the subtree, to the end
        assert SYS_UPTIME in walked and HR_SYSTEM_DATE in walked
        assert not [name for name in walked if name.startswith(subtree + ".")]
    assert own == {}
    quality = {r.point: r.quality for r in result.readings if not r.instance}
    assert result.reachable
    assert (quality["pbx.version"], quality["pbx.uptime"]) == (Quality.ABSENT, Quality.ABSENT)
    assert (quality["sys.uptime"], quality["sys.date"]) == (Quality.GOOD, Quality.GOOD)

    # Started again: its objects are back, its uptime from zero, the host's goes on.
    back = get(target, version, uptime, SYS_UPTIME)
    assert back[version].startswith('"')
    assert ticks(back[uptime]) < before <= ticks(back[SYS_UPTIME])


@pytest.mark.parametrize("device", sorted(SOFTWARE))
def test_subagent_reconnecting_is_absent_meanwhile_and_the_software_ran_on(
    pbxs: tuple[SimFleet, dict[str, str], Path], device: str
) -> None:
    sim, targets, _ = pbxs
    target = targets[device]
    uptime = SOFTWARE[device][2]
    before = ticks(get(target, uptime)[uptime])
    sim.client.inject(device, "agentx_lost", {})
    try:
        answer = values(snmp("snmpget", target, SYS_UPTIME, uptime).stdout)
    finally:
        sim.client.clear(device, "agentx_lost", {})
    assert ticks(answer[SYS_UPTIME]) > 0 and answer[uptime] == NO_SUCH_OBJECT
    assert ticks(get(target, uptime)[uptime]) >= before  # not restarted: its uptime goes on


def test_subagent_reconnects_by_itself_after_the_seconds_given(
    pbxs: tuple[SimFleet, dict[str, str], Path],
) -> None:
    sim, targets, _ = pbxs
    target = targets["fs"]
    uptime = SOFTWARE["fs"][2]
    sim.client.inject("fs", "agentx_lost", {"seconds": "4"})
    try:
        assert values(snmp("snmpget", target, uptime).stdout)[uptime] == NO_SUCH_OBJECT

        def back() -> bool:
            return values(snmp("snmpget", target, uptime).stdout)[uptime] != NO_SUCH_OBJECT

        wait_until(back, 15, "mod_snmp reconnected by itself")  # no clear sent
    finally:
        sim.client.clear("fs", "agentx_lost", {})
