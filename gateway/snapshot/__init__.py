"""The site's status as one document: devices, open tickets, the uplink.

Built from the pipeline's state (`build`), written by the agent and read by the views
and the proactive jobs (`write`, `read`).
"""

from gateway.snapshot.build import DeviceView, build
from gateway.snapshot.file import SNAPSHOT_NAME, read, write

__all__ = ["SNAPSHOT_NAME", "DeviceView", "build", "read", "write"]
