"""The correlation stage's exceptions.

CorrelateError               anything this stage refuses
├── TopologyError            the site's devices cannot be correlated as configured
├── MaintenanceError         a maintenance request is invalid (unknown device, end
│                            in the past, too long, missing author...): the
│                            message is meant for the person who asked
└── MaintenanceStoreError    the maintenance file cannot be read or written
"""

from __future__ import annotations


class CorrelateError(Exception):
    """Base of the correlation stage's errors."""


class TopologyError(CorrelateError):
    """The device tree of the site cannot be used (e.g. a device named like a pseudo-device)."""


class MaintenanceError(CorrelateError):
    """A maintenance request was refused; the message says why, in the user's terms."""


class MaintenanceStoreError(CorrelateError):
    """The maintenance file is unreadable, malformed, or cannot be written."""
