"""What a simulated panel reports, in SIA DC-03 event codes or Contact ID.

The panel model knows states (mains lost, a zone's detector battery low, armed...).
A real panel reports each change of them once, as an event, and its receiver keeps
the state. Here ``conditions`` reads the states the panel reports and ``changes``
turns a difference into events; ``data`` writes an event as the message data of
either event format.

Codes:
- SIA DC-03-1990.01 (R2003), "SIA Format Protocol for Alarm System Communications":
  ``AT``/``AR`` AC trouble/restoral, ``YT``/``YR`` system battery trouble/restoral,
  ``TA``/``TR`` tamper alarm/restoral (number 0: the panel's enclosure), ``YA``/``YH``
  bell fault/restored, ``BA``/``BH`` burglary alarm/restoral, ``BT``/``BJ`` burglary
  trouble/restoral, ``XT``/``XR`` transmitter (detector) battery trouble/restoral,
  ``BB``/``BU`` burglary bypass/unbypass, ``CL``/``OP`` closing/opening report (the
  number is the user), ``RP`` automatic test, ``RR`` power up, ``YK`` communications
  restoral. The element is ``N`` (new event), ``ri1/`` (area 1) for zone and user
  events, the code and a three-digit number.
- SIA DC-05-1999.09, "Ademco Contact ID Protocol": ``QEEE GG ZZZ``, qualifier 1 new
  event or opening, 3 restore or closing; 301 AC loss, 302 low system battery, 137
  tamper, 321 bell 1, 130 burglary, 383 sensor tamper, 380 sensor trouble, 384 RF low
  battery, 570 bypass, 401 open/close by user, 602 periodic test report, 305 system
  reset, 350 communication trouble. Group (partition) 01; zone 000 for the panel.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from simulators.models.panel import (
    ZONE_ALARM,
    ZONE_BYPASS,
    ZONE_FAULT,
    ZONE_LOW_BATTERY,
    ZONE_TAMPER,
    SiaPanelModel,
)

Format = Literal["sia", "cid"]
TOKENS: Mapping[Format, str] = {"sia": "SIA-DCS", "cid": "ADM-CID"}


@dataclass(frozen=True, slots=True)
class Code:
    """An event type: its SIA DC-03 codes when it starts and when it ends, and its
    Contact ID event code (qualifiers 1 and 3; ``reversed`` for open/close, where 3
    is the closing, i.e. armed)."""

    sia_on: str
    sia_off: str
    cid: int
    zoned: bool = False  # a zone or user event: reported in area 1
    reversed: bool = False


CODES: Mapping[str, Code] = {
    "mains": Code("AT", "AR", 301),
    "battery": Code("YT", "YR", 302),
    "box_tamper": Code("TA", "TR", 137),
    "siren": Code("YA", "YH", 321),
    "armed": Code("CL", "OP", 401, zoned=True, reversed=True),
    "zone_alarm": Code("BA", "BH", 130, zoned=True),
    "zone_tamper": Code("TA", "TR", 383, zoned=True),
    "zone_fault": Code("BT", "BJ", 380, zoned=True),
    "zone_low_battery": Code("XT", "XR", 384, zoned=True),
    "zone_bypass": Code("BB", "BU", 570, zoned=True),
    # Events that are no state: sent as they happen.
    "test": Code("RP", "RP", 602),
    "power_up": Code("RR", "RR", 305),
    "comm_restored": Code("YK", "YK", 350),
}
ZONE_FLAGS = (
    ("zone_alarm", ZONE_ALARM),
    ("zone_tamper", ZONE_TAMPER),
    ("zone_fault", ZONE_FAULT),
    ("zone_low_battery", ZONE_LOW_BATTERY),
    ("zone_bypass", ZONE_BYPASS),
)
ARMING_USER = 1  # the user who arms and disarms the simulated panel

Key = tuple[str, int]  # (condition, zone or user number; 0: the panel)


@dataclass(frozen=True, slots=True)
class PanelEvent:
    name: str  # a key of CODES
    on: bool
    number: int = 0

    def data(self, fmt: Format) -> str:
        """The message data of this event: what goes between ``#acct|`` and ``]``."""
        code = CODES[self.name]
        if fmt == "cid":
            qualifier = 3 if self.on == code.reversed else 1
            if self.name in ("test", "power_up"):
                qualifier = 1
            elif self.name == "comm_restored":
                qualifier = 3
            return f"{qualifier}{code.cid:03d} 01 {self.number:03d}"
        area = "ri1/" if code.zoned else ""
        return f"N{area}{code.sia_on if self.on else code.sia_off}{self.number:03d}"


def conditions(panel: SiaPanelModel) -> dict[Key, bool]:
    """Every state the panel reports, as it is now."""
    out = {
        ("mains", 0): panel.on_battery,
        ("battery", 0): panel.battery_low(),
        ("box_tamper", 0): panel.box_tamper,
        ("siren", 0): panel.siren_fault,
        ("armed", ARMING_USER): panel.armed,
    }
    for zone in panel.zones:
        for name, flag in ZONE_FLAGS:
            out[(name, zone.index)] = bool(zone.flags & flag)
    return out


def at_power_up(panel: SiaPanelModel) -> dict[Key, bool | None]:
    """What a panel takes as already reported when it starts: nothing wrong, and its
    arming unknown (so it reports whether it is armed)."""
    known: dict[Key, bool | None] = dict.fromkeys(conditions(panel), False)
    known[("armed", ARMING_USER)] = None
    return known


def changes(reported: Mapping[Key, bool | None], now: Mapping[Key, bool]) -> Iterator[PanelEvent]:
    """The events that bring the receiver from ``reported`` to ``now``, the panel's
    own conditions first, then zone by zone."""
    for (name, number), value in now.items():
        if reported.get((name, number)) != value:
            yield PanelEvent(name, value, number)
