"""Things a device announces; the protocol layer maps them to traps."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all device events."""


@dataclass(frozen=True, slots=True)
class Booted(Event):
    """The device (re)started: SNMP coldStart."""


@dataclass(frozen=True, slots=True)
class LinkChanged(Event):
    port: int
    up: bool


@dataclass(frozen=True, slots=True)
class DiskChanged(Event):
    disk: int
    failed: bool


@dataclass(frozen=True, slots=True)
class VideoChanged(Event):
    channel: int
    lost: bool


@dataclass(frozen=True, slots=True)
class TrunkChanged(Event):
    trunk: int
    up: bool


@dataclass(frozen=True, slots=True)
class PowerChanged(Event):
    on_battery: bool


@dataclass(frozen=True, slots=True)
class StateChanged(Event):
    """A fault was injected or cleared: a device that reports by itself looks again."""
