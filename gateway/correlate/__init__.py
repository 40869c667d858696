"""Correlation: dependencies and parent re-probe, storms, maintenance mode.

Between the rules and the ticket book: decides which device's condition stands for
an outage (the others are listed on it), turns many devices going down together
into one root-cause condition, and holds new conditions back during maintenance.
"""

from gateway.correlate.command import MAINTENANCE_COMMAND_SCHEMA, handle_maintenance_command
from gateway.correlate.correlator import Correlator
from gateway.correlate.dependencies import Placement, Probe
from gateway.correlate.errors import (
    CorrelateError,
    MaintenanceError,
    MaintenanceStoreError,
    TopologyError,
)
from gateway.correlate.hostlink import HostLink, LinkCheck
from gateway.correlate.maintenance import SITE, MaintenanceStore, MaintenanceWindow
from gateway.correlate.storms import GATEWAY_NETWORK_DOWN, SEGMENT_DOWN, StormPolicy
from gateway.correlate.topology import GATEWAY, GATEWAY_KIND

__all__ = [
    "GATEWAY",
    "GATEWAY_KIND",
    "GATEWAY_NETWORK_DOWN",
    "MAINTENANCE_COMMAND_SCHEMA",
    "SEGMENT_DOWN",
    "SITE",
    "CorrelateError",
    "Correlator",
    "HostLink",
    "LinkCheck",
    "MaintenanceError",
    "MaintenanceStore",
    "MaintenanceStoreError",
    "MaintenanceWindow",
    "Placement",
    "Probe",
    "StormPolicy",
    "TopologyError",
    "handle_maintenance_command",
]
