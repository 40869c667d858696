"""What a simulated FreeSWITCH serves (flavour ``freeswitch``): the host's system group
and HOST-RESOURCES-MIB clock, and FREESWITCH-MIB (enterprise 27880, FreeSWITCH's
src/mod/event_handlers/mod_snmp/FREESWITCH-MIB, revision 201101170000Z) identity and
systemStats as mod_snmp serves them; nothing of ASTERISK-MIB nor the simulators'
trunk subtree. The MIB has no trunk object and no notification: only the host's
coldStart is sent.

A call is two sessions (its inbound and outbound legs), and FreeSWITCH refuses a
session past max-sessions (switch.conf.xml, default 1000; the fleet's
``max_sessions``): the sessions in use stop there.
"""

from __future__ import annotations

import functools
import uuid

from simulators.models.pbx import CALL_SECONDS, PbxModel
from simulators.snmp.mibtree import (
    Gauge32,
    MibTree,
    OctetString,
    TimeTicks,
    TreeBuilder,
    counter32,
)
from simulators.snmp.system_mib import add_system, app_ticks

FS = "1.3.6.1.4.1.27880.1"
MODULE = "FREESWITCH-MIB"
VERSION = "1.10.11-release+git~20231027T204245Z~3e2d8a4c2c~64bit"
SESSIONS_PER_SECOND = 30  # switch.conf.xml sessions-per-second, its default
LEGS = 2  # sessions per call


def tree_for(model: PbxModel) -> MibTree:
    return _tree()


def sessions(model: PbxModel) -> int:
    return min(LEGS * model.active_calls(), int(model.device.spec.max_sessions))


@functools.cache
def _tree() -> MibTree:
    tree = TreeBuilder()
    add_system(tree, services=72)
    # mod_snmp is an AgentX subagent of the host's snmpd: FreeSWITCH stopped, snmpd
    # answers the host's objects and nothing of enterprise 27880.
    tree.subagent("1.3.6.1.4.1.27880", lambda m: m.subagent_serving())
    tree.constant(f"{FS}.1.1", OctetString(VERSION))  # versionString
    tree.scalar(f"{FS}.1.2", lambda m: OctetString(str(uuid.uuid5(uuid.NAMESPACE_DNS, m.id))))
    # systemStats: FreeSWITCH's own uptime; its counters restart with it.
    tree.scalar(f"{FS}.2.1", lambda m: TimeTicks(app_ticks(m)))  # uptime
    tree.scalar(f"{FS}.2.2", lambda m: counter32(LEGS * m.calls_processed.at(m.now)))
    tree.scalar(f"{FS}.2.3", lambda m: Gauge32(sessions(m)))  # currentSessions
    tree.scalar(f"{FS}.2.4", lambda m: Gauge32(m.device.spec.max_sessions))  # maxSessions
    tree.scalar(f"{FS}.2.5", lambda m: Gauge32(sessions(m) // LEGS))  # currentCalls
    tree.scalar(f"{FS}.2.6", lambda m: Gauge32(_sessions_per_second(m)))
    tree.constant(f"{FS}.2.7", Gauge32(SESSIONS_PER_SECOND))  # maxSessionsPerSecond
    return tree.freeze()


def _sessions_per_second(model: PbxModel) -> int:
    """New sessions per second, rounded: as many start as end, each lasting a call."""
    return round(sessions(model) / CALL_SECONDS)
