"""SIA DC-09 in the site file (the site's ``sia:`` receiver, a device's ``sia:``
account) and in profiles (which events set a point: ``set``, ``reset``,
``number_of``, ``zone``, ``initial``). docs/alarm-panel-sia.md is the reference."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator

from gateway.config.listen import parse_listen
from gateway.config.protocols.base import ProtocolSchema, part_of, section_of
from gateway.config.types import Duration, Strict

HEX = r"^[0-9A-Fa-f]+$"
ANY_MESSAGE = "*"


def _code_text(value: Any) -> Any:
    # YAML reads a Contact ID code (1301) as a number: take it as the text it is.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# A SIA DC-03 code (two capital letters), a Contact ID qualifier and event code
# ("1301": new event 301; "3301": its restore), or "*" (every message).
EventCode = Annotated[
    str,
    BeforeValidator(_code_text),
    Field(pattern=r"^([A-Z]{2}|[136][0-9]{3}|\*)$"),
]


class SiaReceiver(Strict):
    """The site file's ``sia:`` section: where the DC-09 receiver listens (TCP and UDP
    on the same port)."""

    listen: str

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        parse_listen(value)
        return value


class Sia(Strict):
    """A device's ``sia:`` section: the panel's DC-09 account and how it reports."""

    account: Annotated[str, Field(min_length=3, max_length=16, pattern=HEX)]
    key_file: Path | None = None  # AES-128/192/256 key: encrypted messages only
    key_format: Literal["hex", "text"] = "hex"
    prefix: Annotated[str, Field(min_length=1, max_length=6, pattern=HEX)] | None = None
    receiver: Annotated[str, Field(min_length=1, max_length=6, pattern=HEX)] | None = None
    test_interval: Duration  # the panel's periodic test report, as programmed in it
    grace: Duration | None = None  # default: a tenth of test_interval

    @field_validator("account", "prefix", "receiver")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value is not None else None

    @property
    def window(self) -> float:
        """Seconds after a message by which the next one is due: interval plus grace."""
        grace = self.grace if self.grace is not None else self.test_interval / 10
        return self.test_interval + grace


class SiaPoint(Strict):
    """Which DC-09 events give a point its value. ``set``/``reset``: a ``bool`` point
    becomes true/false; ``number_of``: an ``int`` point takes the event's zone, point
    or user number; a ``window`` point is the device's test interval plus grace, in
    seconds. ``zone`` keeps a scalar point to the events of that number (0: the panel
    itself); ``initial`` is the value before any event."""

    set: list[EventCode] | None = None
    reset: list[EventCode] | None = None
    number_of: list[EventCode] | None = None
    zone: Annotated[int, Field(ge=0, le=9999)] | None = None
    initial: bool | int | None = None

    @model_validator(mode="after")
    def _no_repeat(self) -> SiaPoint:
        both = set(self.set or ()) & set(self.reset or ())
        if both:
            raise ValueError(f"{', '.join(sorted(both))} both sets and resets the point")
        return self


SiaType = Literal["bool", "int", "window"]


def _check_point(point: SiaPoint) -> str | None:
    if (point.set or point.reset) and point.number_of:
        return "give set/reset (a bool point) or number_of (an int point), not both"
    return None


def _check_type(point_type: str, point: SiaPoint) -> str | None:
    """The events a point of each ``type`` needs."""
    if point_type == "window":
        given = [f for f in SiaPoint.model_fields if getattr(point, f) is not None]
        return f"a window point takes no {', '.join(given)}" if given else None
    if point_type == "bool" and not (point.set or point.reset):
        return "a bool DC-09 point needs set or reset events"
    if point_type == "int" and not point.number_of:
        return "an int DC-09 point needs number_of events"
    if point_type == "int" and (point.set or point.reset):
        return "an int DC-09 point takes number_of, not set/reset"
    return None


SIA = ProtocolSchema(
    name="sia",
    title="SIA DC-09",
    device=Sia,
    site={"sia": SiaReceiver},
    point=SiaPoint,
    point_types=frozenset(SiaType.__args__),  # type: ignore[attr-defined]
    check_point=_check_point,
    check_type=_check_type,
    device_section_required=True,
    site_section_required="sia",
)


def sia_settings(device: BaseModel) -> Sia | None:
    """A device's ``sia:`` section, None when it has none."""
    return section_of(device, SIA.name, Sia)


def receiver_settings(site_file: BaseModel) -> SiaReceiver | None:
    """The site file's ``sia:`` section, None when the receiver is off."""
    return section_of(site_file, "sia", SiaReceiver)


def sia_point(point: BaseModel) -> SiaPoint:
    """The DC-09 events of a profile point or table column."""
    return part_of(point, SiaPoint)
