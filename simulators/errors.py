"""The simulators' exception tree, converted to exit codes at the CLI boundary.

- ``SimulatorError``: base of everything raised on purpose.
  - ``ConfigError``: a fleet or scenario file is wrong (exit 2); carries FILE:LINE.
  - ``FaultError``: an unknown fault or a bad fault parameter (exit 2 from the CLI,
    HTTP 400 from the control endpoint).
  - ``UnknownDeviceError``: no device with that id (exit 2, HTTP 404).
  - ``ServeError``: a device cannot be served, e.g. its port is taken (exit 1).
  - ``ControlError``: the control endpoint is unreachable or failed (exit 1).
"""

from __future__ import annotations

from pathlib import Path


class SimulatorError(Exception):
    """Base class of the simulators' own errors."""


class ConfigError(SimulatorError):
    """A fleet or scenario file is invalid; ``problems`` are `FILE:LINE: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    @classmethod
    def at(cls, path: Path | str, line: int | None, message: str) -> ConfigError:
        return cls([located(path, line, message)])


def located(path: Path | str, line: int | None, message: str) -> str:
    return f"{path}:{line}: {message}" if line is not None else f"{path}: {message}"


class FaultError(SimulatorError):
    """An unknown fault for the device's kind, or a bad parameter."""


class UnknownDeviceError(SimulatorError):
    """No device with that id in the running fleet."""


class ServeError(SimulatorError):
    """A device cannot be served (address not bindable, port taken, serial port missing)."""


class ControlError(SimulatorError):
    """The control endpoint cannot be reached or answered with a server error."""
