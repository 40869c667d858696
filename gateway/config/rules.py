"""Typed model of a profile's rules: when a fault exists, at which level, and when it clears.

A rule is data in a profile (``rules:``). The reference for writing one is the
"Rules" section of docs/profiles.md; docs/faults.md lists the shipped fault codes.

Three rule types:
- ``unreachable``: the device did not answer ``raise_after`` polls in a row.
- ``absent``: the device answered ``raise_after`` polls in a row, but every one of
  ``points`` was absent from it (SNMP noSuchObject, noSuchInstance, endOfMibView):
  the application serving them on the host (an AgentX subagent such as FreeSWITCH's
  mod_snmp or Asterisk's res_snmp) has stopped while the host runs on.
- ``check``: an expression over the device's readings (``when``) held for ``for``;
  it clears when ``clear`` (default: ``when`` no longer holds) held for ``clear_for``.
  With ``table`` it is judged once per instance (port, disk, zone...), each its own
  condition; without, once for the device. ``escalate`` steps raise its level while
  their own expressions hold, on the same condition (same ticket).
Either may carry ``flapping``: too many raise/clear transitions in a window become
one flapping condition instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from gateway.config.text import Text
from gateway.config.types import Duration
from gateway.model import Level

NAME = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# A value a reading may be compared with. Quote state names YAML would read as
# booleans ("on", "off", "yes", "no").
Scalar = bool | int | float | str
PointName = Annotated[str, Field(pattern=NAME)]
Measure = Literal["value", "rate", "change", "age", "skew"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Comparison(Strict):
    """Comparators; every one given must hold."""

    eq: Scalar | None = None
    ne: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in", min_length=1)
    not_in: list[Scalar] | None = Field(default=None, min_length=1)
    match: str | None = None  # a regular expression searched in a text value
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Comparison:
        if not self.comparators():
            raise ValueError("give at least one of eq, ne, in, not_in, match, gt, ge, lt, le")
        return self

    @field_validator("match")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {value!r} ({exc})") from None
        return value

    def comparators(self) -> dict[str, Any]:
        given = {"eq": self.eq, "ne": self.ne, "in": self.in_, "not_in": self.not_in}
        given["match"] = self.match
        given |= {"gt": self.gt, "ge": self.ge, "lt": self.lt, "le": self.le}
        return {op: v for op, v in given.items() if v is not None}


class Check(Comparison):
    """A test of one point's latest reading (at the rule's instance, for a table column).

    ``of`` says what is compared: ``value`` (the reading), ``rate`` (change per second
    since the previous reading), ``change`` (difference to the previous reading), ``age``
    (seconds since the last reading: staleness), ``skew`` (seconds between the value, a
    device clock as epoch seconds or ISO 8601 text, and the reading's time). With
    ``per`` the measured value is divided by another point's value first (free space
    per capacity: a fraction).
    """

    point: PointName
    of: Measure = "value"
    per: PointName | None = None

    @model_validator(mode="after")
    def _numeric_measures(self) -> Check:
        if self.of == "value" and self.per is None:
            return self
        values: list[Any] = []
        for compared in self.comparators().values():
            values.extend(compared if isinstance(compared, list) else [compared])
        if any(isinstance(v, bool | str) for v in values):
            what = f"'of: {self.of}'" if self.per is None else "a value 'per' another"
            raise ValueError(f"{what} is a number: compare it with numbers")
        return self


class Seen(Strict):
    """True once the point has had one of these values (on this instance) since start."""

    point: PointName
    seen: list[Scalar] = Field(min_length=1)

    @field_validator("seen", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return value if isinstance(value, list) else [value]


class All(Strict):
    all: list[Expr] = Field(min_length=1)


class AnyOf(Strict):
    any: list[Expr] = Field(min_length=1)


class Not(Strict):
    not_: Expr = Field(alias="not")


# What a count or share ranges over: the device's own table, or the same table of
# every device of the site that answers (the site's cameras over all its NVRs).
Over = Literal["device", "site"]


class Count(Strict):
    """How many instances of a table satisfy ``count``, compared with a number."""

    count: Expr
    table: PointName | None = None  # inferred from the points inside when omitted
    over: Over = "device"
    eq: Annotated[int, Field(ge=0)] | None = None
    gt: Annotated[int, Field(ge=0)] | None = None
    ge: Annotated[int, Field(ge=0)] | None = None
    lt: Annotated[int, Field(ge=0)] | None = None
    le: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _compared(self) -> Count:
        if all(v is None for v in (self.eq, self.gt, self.ge, self.lt, self.le)):
            raise ValueError("give at least one of eq, gt, ge, lt, le")
        return self


Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class Share(Strict):
    """The fraction (0..1) of a table's instances that satisfy ``share``."""

    share: Expr
    table: PointName | None = None
    over: Over = "device"
    gt: Fraction | None = None
    ge: Fraction | None = None
    lt: Fraction | None = None
    le: Fraction | None = None

    @model_validator(mode="after")
    def _compared(self) -> Share:
        if all(v is None for v in (self.gt, self.ge, self.lt, self.le)):
            raise ValueError("give at least one of gt, ge, lt, le (a fraction 0..1)")
        return self


class TimeWindow(Strict):
    """Local times of day on some weekdays; ``from`` > ``to`` spans midnight."""

    from_: str = Field(alias="from")
    to: str
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)
    tz: str

    @field_validator("from_", "to")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"not a time of day: {value!r} (use HH:MM, 00:00 to 23:59)")
        return value

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    def contains(self, at: dt.datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.tz))
        start, end = _minutes(self.from_), _minutes(self.to)
        now = local.hour * 60 + local.minute
        day = WEEKDAYS[local.weekday()]
        if start <= end:
            return day in self.days and start <= now < end
        # Spans midnight: the part after midnight belongs to the previous day's window.
        yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
        return (day in self.days and now >= start) or (yesterday in self.days and now < end)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class During(Strict):
    """True while the readings' time is inside the window (``not`` it for "outside")."""

    during: TimeWindow


_EXPR_KEYS = ("all", "any", "not", "count", "share", "during", "seen")


def _expr_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in _EXPR_KEYS:
            if key in value:
                return key
        return "check" if "point" in value else None
    return _EXPR_TAGS.get(type(value))


Expr = Annotated[
    Annotated[Check, Tag("check")]
    | Annotated[Seen, Tag("seen")]
    | Annotated[All, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[Count, Tag("count")]
    | Annotated[Share, Tag("share")]
    | Annotated[During, Tag("during")],
    Discriminator(
        _expr_kind,
        custom_error_type="unknown_expression",
        custom_error_message=(
            "an expression is {point: ...} or has one of all, any, not, count, share, during, seen"
        ),
    ),
]
_EXPR_TAGS: dict[type, str] = {
    Check: "check", Seen: "seen", All: "all", AnyOf: "any", Not: "not",
    Count: "count", Share: "share", During: "during",
}  # fmt: skip


class Flapping(Strict):
    """``transitions`` raises and clears within ``window`` become one flapping condition.

    It clears once the watched condition made no transition for ``stable``.
    """

    code: PointName
    title: Text
    level: Level = Level.L2
    transitions: Annotated[int, Field(ge=2, le=100)] = 4
    window: Duration = 900.0
    stable: Duration = 900.0


class Trigger(Strict):
    """When something starts (``when`` held for ``for``) and ends (``clear`` for ``clear_for``)."""

    when: Expr
    for_: Duration | None = Field(default=None, alias="for")
    clear: Expr | None = None  # default: ``when`` no longer holds
    clear_for: Duration | None = None


class Step(Trigger):
    """An escalation: while the rule is active and this holds, the level is ``level``."""

    level: Level


class LevelledRule(Strict):
    code: PointName
    title: Text
    level: Level
    level_by_role: dict[str, Level] = Field(default_factory=dict)
    flapping: Flapping | None = None
    # A warning, not a fault: nothing is broken yet (a disk filling up): no loaner.
    notice: bool = False

    def level_for(self, role: str | None) -> Level:
        return self.level_by_role.get(role or "", self.level)

    def codes(self) -> list[str]:
        """Every fault code this rule can raise."""
        return [self.code] + ([self.flapping.code] if self.flapping else [])

    def in_locale(self, locale: str) -> Self:
        """The rule with its titles in ``locale`` (docs/languages.md)."""
        update: dict[str, Any] = {"title": self.title.in_locale(locale)}
        if self.flapping is not None:
            flapping_title = self.flapping.title.in_locale(locale)
            update["flapping"] = self.flapping.model_copy(update={"title": flapping_title})
        return self.model_copy(update=update)


class PollCountRule(LevelledRule):
    """Raised after ``raise_after`` polls in a row that show the fault, cleared after
    ``clear_after`` that do not: counted in polls, not in time."""

    raise_after: Annotated[int, Field(ge=1, le=100)] = 3
    clear_after: Annotated[int, Field(ge=1, le=100)] = 2


class UnreachableRule(PollCountRule):
    """The device did not answer `raise_after` polls in a row; clears after `clear_after` good."""

    type: Literal["unreachable"]


class AbsentRule(PollCountRule):
    """The device answered `raise_after` polls in a row without any of `points` (every
    one absent: noSuchObject...); clears after `clear_after` polls that had one of them.

    For an application that serves its subtree through the host's agent: when it stops,
    the host answers for its own objects and no longer for the application's."""

    type: Literal["absent"]
    points: list[PointName] = Field(min_length=1)


class CheckRule(LevelledRule, Trigger):
    """A fault judged from the readings; per instance of ``table`` when given."""

    type: Literal["check"]
    table: PointName | None = None
    escalate: list[Step] = Field(default_factory=list)

    @model_validator(mode="after")
    def _steps_escalate(self) -> CheckRule:
        for step in self.escalate:
            if step.level >= self.level:
                raise ValueError(
                    f"escalate: level {int(step.level)} is not more severe than the rule's"
                    f" level {int(self.level)}"
                )
        return self


Rule = Annotated[UnreachableRule | AbsentRule | CheckRule, Field(discriminator="type")]


def fault_codes(rules: list[UnreachableRule | AbsentRule | CheckRule]) -> list[str]:
    """Every fault code a profile's rules can raise (a site may override each one's level)."""
    return [code for rule in rules for code in rule.codes()]


def points_of(expr: Check | Seen) -> list[str]:
    """The reading names a test reads."""
    if isinstance(expr, Check) and expr.per is not None:
        return [expr.point, expr.per]
    return [expr.point]


def children(expr: Expr) -> list[Expr]:
    """The expressions directly inside ``expr``."""
    if isinstance(expr, All):
        return expr.all
    if isinstance(expr, AnyOf):
        return expr.any
    if isinstance(expr, Not):
        return [expr.not_]
    if isinstance(expr, Count):
        return [expr.count]
    if isinstance(expr, Share):
        return [expr.share]
    return []


def walk(expr: Expr) -> Iterator[Expr]:
    """The expression and every expression inside it, depth first."""
    yield expr
    for child in children(expr):
        yield from walk(child)


for _model in (All, AnyOf, Not, Count, Share, Trigger, Step, CheckRule):
    _model.model_rebuild()


# --- Checks of rules against their profile (names, tables, titles) ---------------

# Readings every poll yields, whatever the profile says.
