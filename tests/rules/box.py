"""A made-up device profile for the engine's tests; each test adds its own rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.rules import RuleEngine
from tests.rules.harness import engine_with

BOX = """
description: Test device for the rule engine
kinds: [nvr, switch, ups, pbx, alarm_panel]
protocol: snmp
points:
  temp:      {oid: 1.3.6.1.4.1.99999.1.1.0, type: int, unit: C}
  battery:   {oid: 1.3.6.1.4.1.99999.1.2.0, type: int, states: {1: normal, 2: low, 3: depleted}}
  mains:     {oid: 1.3.6.1.4.1.99999.1.3.0, type: int, states: {1: present, 2: lost}}
  clock:     {oid: 1.3.6.1.4.1.99999.1.4.0, type: int, unit: s}
  errors:    {oid: 1.3.6.1.4.1.99999.1.5.0, type: counter32, rate: true}
  uptime:    {oid: 1.3.6.1.4.1.99999.1.6.0, type: timeticks, unit: s}
  armed:     {oid: 1.3.6.1.4.1.99999.1.7.0, type: int, states: {1: armed, 2: disarmed}}
  heartbeat: {oid: 1.3.6.1.4.1.99999.1.8.0, type: int}
tables:
  cam:
    instance: channel
    label: name
    columns:
      status: {oid: 1.3.6.1.4.1.99999.2.1.1, type: int, states: {1: online, 2: offline}}
      name:   {oid: 1.3.6.1.4.1.99999.2.1.2, type: text}
  disk:
    instance: disk
    columns:
      state: {oid: 1.3.6.1.4.1.99999.3.1.1, type: int, states: {0: normal, 2: failed}}
      free:  {oid: 1.3.6.1.4.1.99999.3.1.2, type: int, unit: MB}
      size:  {oid: 1.3.6.1.4.1.99999.3.1.3, type: int, unit: MB}
traps:
  boom: {oid: 1.3.6.1.4.1.99999.0.1, instance_from: 1.3.6.1.4.1.99999.2.1.1}
"""


def box_engine(
    tmp_path: Path, rules: str, devices: list[dict[str, Any]] | None = None
) -> RuleEngine:
    """An engine for devices using the box profile with these rules (YAML under ``rules:``)."""
    devices = devices or [{"id": "box", "kind": "nvr", "profile": "box"}]
    return engine_with(tmp_path, devices, {"box": BOX + "rules:\n" + rules})
