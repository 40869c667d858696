"""Which MIB tree and which traps each SNMP device kind has."""

from __future__ import annotations

from typing import Any

from simulators.snmp import switch_mib
from simulators.snmp.agent import Notifier
from simulators.snmp.mibtree import MibTree

MIBS: dict[str, tuple[Any, Notifier]] = {
    "switch": (switch_mib.tree_for, switch_mib.notifications),
}


def tree_for(model: Any) -> MibTree:
    tree: MibTree = MIBS[model.kind][0](model)
    return tree


def notifier_for(kind: str) -> Notifier:
    return MIBS[kind][1]
