"""What a simulated PBX serves: system group, ASTERISK-MIB (1.3.6.1.4.1.22736.1)
version, configuration, module and channel scalars, and the trunk table under the
simulation subtree 1.3.6.1.4.1.22736.99 (the Asterisk MIB has no trunk status; see
docs/simulators.md); and its traps. A FreeSWITCH flavour serves FREESWITCH-MIB
instead (freeswitch_mib), and only the host's coldStart."""

from __future__ import annotations

import functools
from typing import Any

from simulators.models.events import Booted, Event, TrunkChanged
from simulators.models.pbx import PbxModel
from simulators.snmp import freeswitch_mib
from simulators.snmp.mibtree import (
    OID,
    Gauge32,
    Integer,
    MibTree,
    OctetString,
    TimeTicks,
    TreeBuilder,
    Unsigned32,
    counter32,
    oid,
)
from simulators.snmp.system_mib import COLD_START, add_system, app_ticks

AST = "1.3.6.1.4.1.22736.1"
SIM = "1.3.6.1.4.1.22736.99"
SIM_TRUNK_ENTRY = f"{SIM}.2.1"
TRAP_TRUNK_DOWN = oid(f"{SIM}.0.1")
TRAP_TRUNK_UP = oid(f"{SIM}.0.2")

Notification = tuple[OID, list[tuple[OID, Any]]]


def tree_for(model: PbxModel) -> MibTree:
    if model.device.flavour.vendor_mib == freeswitch_mib.MODULE:
        return freeswitch_mib.tree_for(model)
    return _tree(len(model.trunks))


@functools.cache
def _tree(trunks: int) -> MibTree:
    tree = TreeBuilder()
    add_system(tree, services=72)
    # res_snmp is an AgentX subagent of the host's snmpd (it registers ASTERISK-MIB,
    # 22736.1): Asterisk stopped, snmpd answers the host's objects and nothing of it.
    # The simulation's trunk subtree (22736.99) tells what Asterisk knows: it goes too.
    tree.subagent("1.3.6.1.4.1.22736", lambda m: m.subagent_serving())
    tree.constant(f"{AST}.1.1", OctetString("18.10.0"))  # astVersionString
    tree.constant(f"{AST}.1.2", Unsigned32(180100))  # astVersionTag
    tree.scalar(f"{AST}.2.1", lambda m: TimeTicks(app_ticks(m)))  # astConfigUpTime
    tree.scalar(f"{AST}.2.2", lambda m: TimeTicks(app_ticks(m)))  # astConfigReloadTime
    tree.scalar(f"{AST}.2.3", lambda m: Integer(m.pid))  # astConfigPid
    tree.constant(f"{AST}.2.4", OctetString("/var/run/asterisk/asterisk.ctl"))
    tree.scalar(f"{AST}.2.5", lambda m: Gauge32(m.active_calls()))  # astConfigCallsActive
    tree.scalar(f"{AST}.2.6", lambda m: counter32(m.calls_processed.at(m.now)))
    tree.constant(f"{AST}.3.1", Integer(203))  # astNumModules
    tree.scalar(f"{AST}.5.1", lambda m: Integer(2 * m.active_calls()))  # astNumChannels
    tree.constant(f"{SIM}.1", Integer(trunks))
    rows: list[OID] = [(n,) for n in range(1, trunks + 1)]

    def col(number: int, read: Any) -> None:
        tree.column(
            f"{SIM_TRUNK_ENTRY}.{number}",
            rows,
            lambda index: lambda m: read(m, m.trunks[index[0] - 1]),
        )

    col(1, lambda m, t: Integer(t.index))
    col(2, lambda m, t: OctetString(t.name))
    col(3, lambda m, t: Integer(1 if t.up else 2))  # registered 1, unreachable 2
    col(4, lambda m, t: Gauge32(m.trunk_calls(t)))  # active calls on the trunk
    col(5, lambda m, t: Integer(t.channels))  # channels the trunk can carry
    return tree.freeze()


def notifications(model: PbxModel, event: Event) -> list[Notification]:
    if isinstance(event, Booted):
        return [(COLD_START, [])]
    if isinstance(event, TrunkChanged) and model.device.flavour.vendor_mib != freeswitch_mib.MODULE:
        trunk = model.trunks[event.trunk - 1]
        varbinds = [
            (oid(f"{SIM_TRUNK_ENTRY}.1.{trunk.index}"), Integer(trunk.index)),
            (oid(f"{SIM_TRUNK_ENTRY}.2.{trunk.index}"), OctetString(trunk.name)),
            (oid(f"{SIM_TRUNK_ENTRY}.3.{trunk.index}"), Integer(1 if trunk.up else 2)),
        ]
        return [(TRAP_TRUNK_UP if event.up else TRAP_TRUNK_DOWN, varbinds)]
    return []
