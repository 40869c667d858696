"""The protocols the site file and profiles may speak: one ``ProtocolSchema`` each.

``SCHEMAS`` is the config half of the protocol registry: adding a protocol adds its
schema here and its entry to ``gateway/protocols/registry.py`` (docs/extending.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.config.protocols.ami import AMI
from gateway.config.protocols.base import ProtocolSchema
from gateway.config.protocols.dahua import DAHUA
from gateway.config.protocols.isapi import ISAPI
from gateway.config.protocols.modbus import MODBUS
from gateway.config.protocols.sia import SIA
from gateway.config.protocols.snmp import SNMP

SCHEMAS: Mapping[str, ProtocolSchema] = {
    schema.name: schema for schema in (SNMP, MODBUS, ISAPI, DAHUA, SIA, AMI)
}

__all__ = ["SCHEMAS", "ProtocolSchema"]
