"""Poll each device on its own schedule and turn protocol values into readings."""

from gateway.poller.result import PollResult
from gateway.poller.schedule import DeviceSchedule, run_pollers

__all__ = ["DeviceSchedule", "PollResult", "run_pollers"]
