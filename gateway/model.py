"""The core values that cross every boundary of the pipeline.

drivers -> Reading -> rules -> Condition -> correlate -> TicketEvent -> outbox -> uplink

All are immutable and do no I/O: frozen, slotted dataclasses, except ``Reading``, a
named tuple (one is made for every value polled: a frozen dataclass's ``__init__``
sets each field through ``object.__setattr__`` and cost several times a tuple's
making). Timestamps are timezone-aware UTC ``datetime`` values; durations are seconds.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from gateway.i18n import N_


class Level(enum.IntEnum):
    """The four fault levels of the service rules (1 = most severe)."""

    L1 = 1  # system paralysed or service interrupted; basic function lost
    L2 = 2  # a major part of the equipment or functions failed; partial or intermittent
    L3 = 3  # an accessory / peripheral device damaged; may affect overall performance
    L4 = 4  # not a system fault: a user's operation or another human cause (a small fault)

    @property
    def meaning(self) -> str:
        return LEVEL_MEANINGS[self]


# In English; translator(locale).gettext(meaning) gives a site's language, where
# zh-CN has the seed's own definitions (一级故障: 系统瘫痪或服务中断 ...).
LEVEL_MEANINGS: Mapping[Level, str] = {
    Level.L1: N_("system down: the system is paralysed or its service interrupted"),
    Level.L2: N_("major fault: a major part of the equipment or functions failed"),
    Level.L3: N_("minor fault: an accessory or peripheral device is damaged"),
    Level.L4: N_(
        "not a system fault: a user's operation or another human cause, resolved remotely"
    ),
}


class Quality(enum.Enum):
    """How far a reading can be trusted."""

    GOOD = "good"
    STALE = "stale"  # last known value, the device did not answer this time
    BAD = "bad"  # the device answered with something that could not be decoded
    # The device answered that it has no such object (SNMP noSuchObject, noSuchInstance,
    # endOfMibView): nothing serves it now, as when the application behind an agent stopped.
    ABSENT = "absent"


# A reading's value: a number, a normalized state name, or text (sysDescr...).
Value = float | int | str | bool | None


class Reading(NamedTuple):
    """One measured value of one point of one device at one time."""

    device: str
    point: str  # e.g. "reachable", "rtt", "if.oper_status"
    value: Value
    ts: datetime
    instance: str = ""  # table index: port, disk, zone... ("" for scalars)
    unit: str = ""
    quality: Quality = Quality.GOOD


@dataclass(frozen=True, slots=True)
class Condition:
    """A fault the rules found active (or cleared) on one device instance."""

    device: str
    code: str  # stable fault code, e.g. "device.unreachable"
    level: Level
    title: str
    active: bool
    since: datetime  # when it became active (or cleared, when active is False)
    instance: str = ""
    evidence: tuple[Reading, ...] = ()
    # Devices whose own faults are part of this incident (children behind a parent
    # that is down), listed on the ticket instead of ticketed separately.
    related: tuple[str, ...] = ()
    # Raised while the device (or site) is in maintenance: no new ticket is opened.
    maintenance: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies one incident: the same key is the same ticket."""
        return (self.device, self.code, self.instance)


class EventKind(enum.StrEnum):
    OPEN = "open"
    UPDATE = "update"
    RESOLVE = "resolve"
    REMINDER = "reminder"


class ReminderKind(enum.StrEnum):
    RESPONSE = "response"  # not acknowledged by ``response_due``
    ONSITE = "onsite"  # no arrival on site by ``onsite_due``


@dataclass(frozen=True, slots=True)
class OnTime:
    """Was the service on time (seed 002's 服务及时率)? None where it does not apply:
    no visit due, or the fault cleared before the deadline with nothing done."""

    response: bool | None  # acknowledged by ``response_due``
    onsite: bool | None  # arrived on site by ``onsite_due``


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """One message to the service center, as published on `lvgw/v1/<site>/tickets`."""

    event_id: str
    event: EventKind
    ticket_id: str
    seq: int
    severity: Level
    title: str
    device_id: str
    device_kind: str
    fault_code: str
    occurred_at: datetime
    emitted_at: datetime
    response_due: datetime
    onsite_due: datetime | None
    instance: str = ""
    dedup_key: str = ""
    resolved_at: datetime | None = None
    evidence: tuple[Reading, ...] = ()
    related: tuple[str, ...] = ()
    maintenance: bool = False
    previous_severity: Level | None = None  # on an update that changed the level
    loaner_due: datetime | None = None  # annual contracts: a loaner if not fixed by then
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    reminder_no: int = 0  # on a reminder: the how-manieth of its kind for these deadlines
    reminder_kind: ReminderKind | None = None  # on a reminder: which deadline passed
    arrived_at: datetime | None = None  # the technician reported arriving on site
    departed_at: datetime | None = None  # ... and leaving
    on_time: OnTime | None = None  # on a resolve
    contract_ended: bool = False  # the contract's end date has passed: served per visit
