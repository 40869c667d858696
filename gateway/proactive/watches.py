"""What the forecasts watch: which series, which threshold, how far ahead, which level.

A watch finds its series by what they mean (a profile point's ``meaning:``). A
threshold comes from the device's profile when one of its rules compares the same
point (a battery rule's ``lt: 11.5`` is the level the forecast looks ahead to), else
from the watch's default for that meaning; a series with neither is not forecast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from gateway.config.meanings import Meaning, meaning_of, points_meaning
from gateway.config.profile import Profile
from gateway.config.rules import Check, CheckRule, walk
from gateway.config.site import DeviceKind
from gateway.i18n import N_
from gateway.model import Level
from gateway.proactive.forecast import Direction, Trust

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Watch:
    code: str  # the fault code of its tickets: forecast.<what>
    meanings: tuple[Meaning, ...]  # series looked at; per instance, the earliest forecast wins
    direction: Direction
    horizon: timedelta  # a ticket when the threshold is reached within this
    window: timedelta  # how much history the line is fitted over
    level: Level  # level 4: a forecast is not a fault yet (no visit, no loaner)
    title: str  # {device} {instance} {threshold:g} {unit} {date}; in English, translated when used
    unit: str = ""
    defaults: Mapping[Meaning, float] = field(default_factory=dict)  # meaning -> threshold
    # Only profiles for these kinds get the defaults (None: every kind).
    default_kinds: frozenset[DeviceKind] | None = None
    trust: Trust = field(default_factory=Trust)

    def points(self, profile: Profile | None) -> tuple[str, ...]:
        """The readings of ``profile`` this watch looks at, in the profile's order."""
        return points_meaning(profile, *self.meanings)

    def threshold(self, point: str, profile: Profile | None) -> float | None:
        """The profile rule's threshold on ``point``, else this watch's default for
        what the point means."""
        if profile is None:
            return None
        found = rule_threshold(profile, point, self.direction)
        if found is not None:
            return found
        if self.default_kinds is not None and not self.default_kinds & set(profile.kinds):
            return None
        meaning = meaning_of(profile, point)
        return None if meaning is None else self.defaults.get(meaning)

    @property
    def step(self) -> timedelta:
        """Bucket width of the fitted series: about 170 points over the window."""
        return max(timedelta(seconds=60), self.window / 168)


def rule_threshold(profile: Profile, point: str, direction: Direction) -> float | None:
    """The limit a profile's rules put on ``point``'s value: the highest ``lt``/``le``
    for "below" (the first one crossed going down), the lowest ``gt``/``ge`` for "above"."""
    found: list[float] = []
    for rule in profile.rules:
        if not isinstance(rule, CheckRule):
            continue
        for expr in (e for trigger in (rule, *rule.escalate) for e in walk(trigger.when)):
            if not isinstance(expr, Check) or expr.point != point or expr.of != "value":
                continue
            if expr.per is not None:
                continue  # a ratio to another point (free per capacity), not a level
            limits = (expr.lt, expr.le) if direction == "below" else (expr.gt, expr.ge)
            found.extend(v for v in limits if v is not None)
    if not found:
        return None
    return max(found) if direction == "below" else min(found)


DISK_FULL = Watch(
    code="forecast.disk_full",
    meanings=(Meaning.DISK_FREE,),
    direction="below",
    horizon=14 * DAY,
    window=7 * DAY,
    level=Level.L4,
    title=N_("Disk {instance} of {device} forecast to be full by {date}"),
    unit="MB",
    defaults={Meaning.DISK_FREE: 0.0},
)
BATTERY_LOW = Watch(
    code="forecast.battery_low",
    meanings=(Meaning.BATTERY_VOLTAGE,),
    direction="below",
    horizon=30 * DAY,
    window=30 * DAY,
    level=Level.L4,
    title=N_("Backup battery of {device} forecast below {threshold:g} V by {date}"),
    unit="V",
    # A 12 V lead-acid panel battery is flat near 11.5 V; a UPS's string voltage
    # varies by model: its threshold comes from its profile's rules only.
    defaults={Meaning.BATTERY_VOLTAGE: 11.5},
    default_kinds=frozenset({DeviceKind.ALARM_PANEL}),
    trust=Trust(min_span=3 * DAY),
)
PORT_ERRORS = Watch(
    code="forecast.port_errors",
    meanings=(Meaning.PORT_ERRORS,),
    direction="above",
    horizon=7 * DAY,
    window=7 * DAY,
    level=Level.L4,
    title=N_("Errors on port {instance} of {device} climbing: {threshold:g}/s by {date}"),
    unit="/s",
    defaults={Meaning.PORT_ERRORS: 0.1},
)
TEMPERATURE = Watch(
    code="forecast.temperature",
    meanings=(Meaning.BATTERY_TEMPERATURE, Meaning.TEMPERATURE),
    direction="above",
    horizon=14 * DAY,
    window=7 * DAY,
    level=Level.L4,
    title=N_("Temperature of {device}{where} climbing: {threshold:g} °C by {date}"),
    unit="°C",
    defaults={Meaning.BATTERY_TEMPERATURE: 40.0, Meaning.TEMPERATURE: 60.0},
)

WATCHES: tuple[Watch, ...] = (DISK_FULL, BATTERY_LOW, PORT_ERRORS, TEMPERATURE)
