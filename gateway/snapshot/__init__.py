"""The site's status as one document: devices, open tickets, the uplink.

A frozen, typed model (`StatusSnapshot`, gateway/snapshot/model.py) built from the
pipeline's state (`build`), written by the agent and read by the views and the
proactive jobs (`write`, `read`).
"""

from gateway.snapshot.build import DeviceView, StatusCache, build, meant_columns
from gateway.snapshot.file import SNAPSHOT_NAME, read, write
from gateway.snapshot.health import build_health
from gateway.snapshot.model import (
    AgentInfo,
    DeviceStatus,
    IntakeStatus,
    ReadingValue,
    SiteInfo,
    StatusSnapshot,
    TicketStatus,
    UplinkStatus,
)

__all__ = [
    "SNAPSHOT_NAME",
    "AgentInfo",
    "DeviceStatus",
    "DeviceView",
    "IntakeStatus",
    "ReadingValue",
    "SiteInfo",
    "StatusCache",
    "StatusSnapshot",
    "TicketStatus",
    "UplinkStatus",
    "build",
    "build_health",
    "meant_columns",
    "read",
    "write",
]
