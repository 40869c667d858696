"""Which MIB tree and which traps each SNMP device kind has."""

from __future__ import annotations

from typing import Any

from simulators.snmp import nvr_mib, pbx_mib, switch_mib, ups_mib
from simulators.snmp.agent import Notifier
from simulators.snmp.mibtree import MibTree

MIBS: dict[str, tuple[Any, Notifier]] = {
    "switch": (switch_mib.tree_for, switch_mib.notifications),
    "nvr": (nvr_mib.tree_for, nvr_mib.notifications),
    "pbx": (pbx_mib.tree_for, pbx_mib.notifications),
    "ups": (ups_mib.tree_for, ups_mib.notifications),
}


def tree_for(model: Any) -> MibTree:
    tree: MibTree = MIBS[model.kind][0](model)
    return tree


def notifier_for(kind: str) -> Notifier:
    return MIBS[kind][1]
