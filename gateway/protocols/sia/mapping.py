"""A DC-09 profile compiled once: which event code gives which point what value.

A profile's points and table columns name the events that set them
(gateway/config/protocols/sia.py, docs/alarm-panel-sia.md). Here they become one
index from event code to targets, so that a message costs a dictionary look-up per
event. A column's instance is the event's number (a zone or point); an event of
number 0 concerns the panel itself and gives no table row. A scalar point with
``zone`` takes only the events of that number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from drivers.sia.content import Event
from gateway.config.profile import Point, Profile
from gateway.config.protocols.sia import ANY_MESSAGE, sia_point
from gateway.model import Value

Action = Literal["set", "reset", "number"]


@dataclass(frozen=True, slots=True)
class Target:
    point: str  # the reading name: a scalar point, or "<table>.<column>"
    action: Action
    table: str | None = None
    zone: int | None = None

    def value(self, event: Event | None) -> Value:
        if self.action == "number":
            return event.number if event is not None else None
        return self.action == "set"


@dataclass(slots=True)
class EventMap:
    """The targets of each event code; ``*`` targets take every message."""

    by_code: dict[str, list[Target]] = field(default_factory=dict)
    every_message: list[Target] = field(default_factory=list)
    windows: list[str] = field(default_factory=list)  # points holding the report window
    initial: dict[str, Value] = field(default_factory=dict)  # scalar -> value before events
    row_initial: dict[str, dict[str, Value]] = field(default_factory=dict)  # table -> ...

    def targets(self, event: Event) -> Iterator[tuple[Target, str]]:
        """The targets ``event`` sets, with the instance each is set at."""
        for target in self.by_code.get(event.code, ()):
            if target.table is not None:
                if event.number > 0:  # 0: the panel itself, not a zone
                    yield target, str(event.number)
            elif target.zone is None or target.zone == event.number:
                yield target, ""


def compile_profile(profile: Profile) -> EventMap:
    events = EventMap()
    for name, point in profile.points.items():
        _add(events, name, point, None)
    for table_name, table in profile.tables.items():
        for column, point in table.columns.items():
            _add(events, f"{table_name}.{column}", point, table_name)
    return events


def _add(events: EventMap, name: str, point: Point, table: str | None) -> None:
    sia = sia_point(point)
    if point.type == "window":
        events.windows.append(name)
        return
    if sia.initial is not None:
        if table is None:
            events.initial[name] = sia.initial
        else:
            events.row_initial.setdefault(table, {})[name] = sia.initial
    actions: list[tuple[Action, list[str] | None]] = [
        ("set", sia.set),
        ("reset", sia.reset),
        ("number", sia.number_of),
    ]
    for action, codes in actions:
        for code in codes or ():
            target = Target(name, action, table, sia.zone)
            if code == ANY_MESSAGE:
                events.every_message.append(target)
            else:
                events.by_code.setdefault(code, []).append(target)
