"""A simulated PBX read by net-snmp, before and after each fault."""

from __future__ import annotations

import pytest

from tests.realservers import wait_until
from tests.simulators.conftest import Addresses, SimFleet, TrapReceiver, get, ticks, walk

pytestmark = pytest.mark.integration

AST = "1.3.6.1.4.1.22736.1"
SIM = "1.3.6.1.4.1.22736.99"
TRUNK = f"{SIM}.2.1"


def test_asterisk_scalars_and_trunks(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("pbx")
    ast = get(target, f"{AST}.1.1.0", f"{AST}.2.1.0", f"{AST}.2.5.0", f"{AST}.5.1.0")
    trunks = walk(target, TRUNK)
    per_trunk = [int(trunks[f"{TRUNK}.4.{n}"]) for n in (1, 2)]
    assert ast[f"{AST}.1.1.0"] == '"18.10.0"'
    assert ticks(ast[f"{AST}.2.1.0"]) > 0
    # The load can move between two requests (every 15 s): compare within one walk.
    assert 0 < sum(per_trunk) <= 120
    assert int(ast[f"{AST}.5.1.0"]) == 2 * int(ast[f"{AST}.2.5.0"])
    assert [trunks[f"{TRUNK}.2.{n}"] for n in (1, 2)] == ['"sip-trunk-1"', '"sip-trunk-2"']
    assert [trunks[f"{TRUNK}.3.{n}"] for n in (1, 2)] == ["1", "1"]
    assert get(target, f"{SIM}.1.0")[f"{SIM}.1.0"] == "2"


def test_calls_processed_grows(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("pbx")

    def processed() -> int:
        return int(get(target, f"{AST}.2.6.0")[f"{AST}.2.6.0"])

    before = processed()
    wait_until(lambda: processed() > before, 5, "astConfigCallsProcessed growing")


def test_trunk_down_one_then_all(sim: SimFleet, addresses: Addresses, trapd: TrapReceiver) -> None:
    target = addresses.target("pbx")
    mark = trapd.mark()
    sim.client.inject("pbx", "trunk_down", {"trunk": "2"})
    trunks = walk(target, TRUNK)
    assert (trunks[f"{TRUNK}.3.1"], trunks[f"{TRUNK}.3.2"], trunks[f"{TRUNK}.4.2"]) == (
        "1", "2", "0")  # fmt: skip
    trapd.wait_for(mark, f"{SIM}.0.1", f'{TRUNK}.2.2 = STRING: "sip-trunk-2"',
                   source=addresses.host("pbx"))  # fmt: skip
    sim.client.inject("pbx", "trunk_down", {})  # default: all trunks
    assert get(target, f"{AST}.2.5.0")[f"{AST}.2.5.0"] == "0"
    assert walk(target, f"{TRUNK}.3") == {f"{TRUNK}.3.1": "2", f"{TRUNK}.3.2": "2"}
    sim.client.clear("pbx", "trunk_down", {"trunk": "all"})
    # trunk 2 stays down: its own fault is still active
    assert walk(target, f"{TRUNK}.3") == {f"{TRUNK}.3.1": "1", f"{TRUNK}.3.2": "2"}
    trapd.wait_for(mark, f"{SIM}.0.2", f"{TRUNK}.1.1 = INTEGER: 1", source=addresses.host("pbx"))
