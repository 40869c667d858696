"""Each device's few headline figures, as a technician checks them, with the state
behind each: a switch's uptime, ports up and errors; a recorder's cameras, disks and
free space; a PBX's trunks and calls; a UPS's mains and battery; an alarm panel's
armed state, zones, mains and battery.

Found in the status snapshot (its ``meant`` readings) by what the profile's points
mean (gateway/config/meanings.py), never by their names: a device of any kind whose
profile declares ``camera_state`` gets a cameras figure. The device's state is the
worst of its figures' and of its open tickets': down when it does not answer or has
a level-1 ticket, degraded for any other open ticket or a figure out of order.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.config.load import LoadedConfig
from gateway.config.meanings import (
    CAMERA_ONLINE_STATES,
    DISK_BAD_STATES,
    PORT_UP_STATES,
    TRUNK_UP_STATES,
    Meaning,
    meanings_of,
)
from gateway.i18n import N_, Translator, translator
from gateway.i18n.states import state_text
from gateway.model import Value
from gateway.present import humanize
from gateway.snapshot import DeviceStatus

M = Meaning

# Every text this module writes, in one place, in English (the site's language through
# the catalog); "{...}" are filled in.
TEXT = {
    "not_polled": N_("not polled yet"),
    "unreachable": N_("not answering"),
    "uptime": N_("up {duration}"),
    "ports": N_("ports up {up}/{of}"),
    "errors_none": N_("no errors"),
    "errors": N_("errors {rate} ({ports} of {of} ports)"),
    "cameras": N_("{up}/{of} cameras"),
    "disks_ok": N_("disks {good}/{of} OK"),
    "disks_bad": N_("disks {good}/{of} OK, {bad} to replace"),
    "disk_free": N_("{free} free, {share}"),
    "trunks": N_("trunks {up}/{of}"),
    "calls": N_("{calls} calls"),
    "on_mains": N_("on mains"),
    "mains_lost": N_("mains lost"),
    "on_battery": N_("on battery for {duration}"),
    "battery": N_("battery {parts}"),
    "battery_low": N_("battery low"),
    "runtime": N_("{minutes} min"),
    "armed": N_("armed"),
    "disarmed": N_("disarmed"),
    "zones_ok": N_("{of} zones quiet"),
    "zones": N_("zones: {parts}"),
    "and": N_(", "),  # between the parts of one figure (a full-width comma in Chinese)
    "zones_alarm": N_("{count} in alarm"),
    "zones_fault": N_("{count} in fault"),
    "zones_tamper": N_("{count} tampered"),
    "zones_detector_low": N_("{count} detector batteries low"),
    "reporting_failed": N_("reporting to the receiving centre failed"),
    "enclosure_open": N_("enclosure open"),
    "temperature": N_("{value} °C"),
    "clock": N_("clock {offset}"),
}
# In English; translator(locale).gettext(word) gives the site's language.
STATE_WORDS = {
    "ok": N_("OK"), "degraded": N_("degraded"), "down": N_("down"), "unknown": N_("not polled"),
}  # fmt: skip
KIND_WORDS = {
    "switch": N_("switch"), "nvr": N_("nvr"), "pbx": N_("pbx"),
    "alarm_panel": N_("alarm_panel"), "ups": N_("ups"),
}  # fmt: skip


def kind_word(kind: str, tr: Translator) -> str:
    """A device kind as people of the site's language call it (the code if unknown)."""
    word = KIND_WORDS.get(kind)
    return tr.gettext(word) if word is not None else kind


DISK_LOW_SHARE = 10.0  # % free below which a recorder's disks are nearly full
CLOCK_SHOWN = 60.0  # s: a clock closer than this is not worth a figure
CLOCK_OFF = 300.0  # s: the profiles' clock.skew rules raise beyond this
BATTERY_BAD = frozenset({"low", "depleted", "fault", "absent"})  # battery_status


class State(enum.StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"  # not polled yet


_RANK = {State.OK: 0, State.UNKNOWN: 1, State.DEGRADED: 2, State.DOWN: 3}


def worst(states: Sequence[State]) -> State:
    return max(states, key=_RANK.__getitem__, default=State.OK)


@dataclass(frozen=True, slots=True)
class Figure:
    key: str  # what it counts, for tests and styles: "cameras", "disks", "battery"...
    text: str  # as shown: "16/16 cameras"
    state: State = State.OK


@dataclass(frozen=True, slots=True)
class Summary:
    state: State
    figures: tuple[Figure, ...]

    def line(self, separator: str = "; ", without: frozenset[str] = frozenset()) -> str:
        """The figures' texts, those whose keys are in ``without`` left out."""
        return separator.join(f.text for f in self.figures if f.key not in without)

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)


class _Meant:
    """A device's meant readings, looked up by meaning."""

    def __init__(
        self, device: DeviceStatus, meanings: Mapping[str, Meaning], tr: Translator | None = None
    ) -> None:
        self.tr = tr or translator()
        self.device = device
        self.by_meaning: dict[Meaning, list[str]] = {}
        for name, meaning in meanings.items():
            if name in device.meant:
                self.by_meaning.setdefault(meaning, []).append(name)

    def text(self, key: str) -> str:
        """TEXT[key] in the site's language."""
        return self.tr.gettext(TEXT[key])

    def scalar(self, meaning: Meaning) -> Value:
        for name in self.by_meaning.get(meaning, ()):
            value = self.device.meant[name].get("")
            if value is not None:
                return value
        return None

    def number(self, meaning: Meaning) -> float | None:
        value = self.scalar(meaning)
        if isinstance(value, bool | int | float) and humanize.is_number(float(value)):
            return float(value)
        return None

    def column(self, meaning: Meaning) -> Mapping[str, Value]:
        """The first column meaning ``meaning``, by instance."""
        names = self.by_meaning.get(meaning, ())
        return self.device.meant[names[0]] if names else {}

    def columns(self, meaning: Meaning) -> list[Mapping[str, Value]]:
        return [self.device.meant[name] for name in self.by_meaning.get(meaning, ())]


# Device id -> what its profile's readings mean.
SiteMeanings = Mapping[str, Mapping[str, Meaning]]


def site_meanings(config: LoadedConfig) -> dict[str, dict[str, Meaning]]:
    """Each device's reading -> meaning, from its profile (none for a missing one)."""
    out: dict[str, dict[str, Meaning]] = {}
    for device in config.devices:
        profile = config.profiles.get(device.profile)
        out[device.id] = {} if profile is None else meanings_of(profile)
    return out


def display_name(device: DeviceStatus, meanings: Mapping[str, Meaning]) -> str:
    """The device's name in the site file, else the name it gives itself."""
    if device.name:
        return device.name
    name = _Meant(device, meanings).scalar(M.DEVICE_NAME)
    return name if isinstance(name, str) else ""


def summarize(
    device: DeviceStatus, meanings: Mapping[str, Meaning], tr: Translator | None = None
) -> Summary:
    """``meanings``: reading -> meaning of the device's profile (`meanings_of`);
    ``tr``: the site's language (English without one)."""
    tr = tr or translator()
    if device.reachable is None:
        text = tr.gettext(TEXT["not_polled"])
        return Summary(State.UNKNOWN, (Figure("reach", text, State.UNKNOWN),))
    if device.reachable is False:
        return Summary(State.DOWN, (Figure("reach", tr.gettext(TEXT["unreachable"]), State.DOWN),))
    meant = _Meant(device, meanings, tr)
    figures = [
        f
        for make in _FIGURES
        for f in make(meant)  # each gives none, one or a few
    ]
    ticket = (
        State.OK
        if device.worst_level is None
        else State.DOWN
        if device.worst_level == 1
        else State.DEGRADED
    )
    return Summary(worst([ticket, *(f.state for f in figures)]), tuple(figures))


def _uptime(m: _Meant) -> list[Figure]:
    seconds = m.number(M.UPTIME)
    if seconds is None:
        return []
    return [Figure("uptime", m.text("uptime").format(duration=humanize.duration(seconds, m.tr)))]


def _ports(m: _Meant) -> list[Figure]:
    states = m.column(M.PORT_STATE)
    if not states:
        return []
    enabled = m.column(M.PORT_ADMIN_STATE)
    wanted = [i for i in states if enabled.get(i, "up") in PORT_UP_STATES]
    up = sum(1 for i in wanted if states[i] in PORT_UP_STATES)
    return [Figure("ports", m.text("ports").format(up=up, of=len(wanted)))]


def _errors(m: _Meant) -> list[Figure]:
    columns = m.columns(M.PORT_ERRORS)
    if not columns:
        return []
    per_port: dict[str, float] = {}
    for column in columns:
        for instance, value in column.items():
            if humanize.is_number(value):
                per_port[instance] = per_port.get(instance, 0.0) + float(value)  # type: ignore[arg-type]
    erring = {i: v for i, v in per_port.items() if v > 0}
    if not erring:
        return [Figure("errors", m.text("errors_none"))]
    text = m.text("errors").format(
        rate=humanize.rate(sum(erring.values()), tr=m.tr), ports=len(erring), of=len(per_port)
    )
    return [Figure("errors", text, State.DEGRADED)]


def _cameras(m: _Meant) -> list[Figure]:
    states = m.column(M.CAMERA_STATE)
    if not states:
        return []
    up = sum(1 for s in states.values() if s in CAMERA_ONLINE_STATES)
    state = State.OK if up == len(states) else State.DOWN if up == 0 else State.DEGRADED
    return [Figure("cameras", m.text("cameras").format(up=up, of=len(states)), state)]


def _disks(m: _Meant) -> list[Figure]:
    states = m.column(M.DISK_STATUS)
    figures = []
    if states:
        bad = sum(1 for s in states.values() if s in DISK_BAD_STATES)
        good = len(states) - bad
        text = m.text("disks_bad" if bad else "disks_ok").format(good=good, of=len(states), bad=bad)
        figures.append(Figure("disks", text, State.DEGRADED if bad else State.OK))
    free = _total(m.column(M.DISK_FREE))
    capacity = _total(m.column(M.DISK_CAPACITY))
    if free is not None and capacity:
        share = free * 100.0 / capacity
        text = m.text("disk_free").format(
            free=humanize.size_mb(free), share=humanize.percent(free, capacity)
        )
        figures.append(
            Figure("disk_free", text, State.DEGRADED if share < DISK_LOW_SHARE else State.OK)
        )
    return figures


def _total(column: Mapping[str, Value]) -> float | None:
    numbers = [float(v) for v in column.values() if humanize.is_number(v)]  # type: ignore[arg-type]
    return sum(numbers) if numbers else None


def _trunks(m: _Meant) -> list[Figure]:
    figures = []
    states = m.column(M.TRUNK_STATE)
    if states:
        up = sum(1 for s in states.values() if s in TRUNK_UP_STATES)
        state = State.OK if up == len(states) else State.DOWN if up == 0 else State.DEGRADED
        figures.append(Figure("trunks", m.text("trunks").format(up=up, of=len(states)), state))
    calls = m.number(M.CALLS_ACTIVE)
    if calls is not None:
        figures.append(Figure("calls", m.text("calls").format(calls=int(calls))))
    return figures


def _power(m: _Meant) -> list[Figure]:
    lost = m.number(M.MAINS_LOST)
    on_battery = m.number(M.TIME_ON_BATTERY)
    if on_battery is not None and on_battery > 0:
        text = m.text("on_battery").format(duration=humanize.duration(on_battery, m.tr))
        return [Figure("power", text, State.DEGRADED)]
    if lost is not None:
        if lost:
            return [Figure("power", m.text("mains_lost"), State.DEGRADED)]
        return [Figure("power", m.text("on_mains"))]
    if on_battery is not None:
        return [Figure("power", m.text("on_mains"))]
    return []


def _battery(m: _Meant) -> list[Figure]:
    parts = []
    charge = m.number(M.BATTERY_CHARGE)
    if charge is not None:
        parts.append(humanize.percent(charge))
    runtime = m.number(M.BATTERY_RUNTIME)
    if runtime is not None:
        parts.append(m.text("runtime").format(minutes=f"{runtime:.0f}"))
    status = m.scalar(M.BATTERY_STATUS)
    low = bool(m.number(M.BATTERY_LOW)) or status in BATTERY_BAD
    if isinstance(status, str) and status in BATTERY_BAD:
        parts.append(state_text(status, m.tr))
    if not parts:
        voltage = m.number(M.BATTERY_VOLTAGE)
        if voltage is not None:
            parts.append(humanize.number(round(voltage, 1), "V"))
    if not parts:
        return [Figure("battery", m.text("battery_low"), State.DEGRADED)] if low else []
    state = State.DOWN if status == "depleted" else State.DEGRADED if low else State.OK
    return [Figure("battery", m.text("battery").format(parts=m.text("and").join(parts)), state)]


def _panel(m: _Meant) -> list[Figure]:
    figures = []
    armed = m.number(M.ARMED)
    if armed is not None:
        figures.append(Figure("armed", m.text("armed" if armed else "disarmed")))
    counts = []
    zones: set[str] = set()
    for meaning, key in (
        (M.ZONE_ALARM, "zones_alarm"),
        (M.ZONE_FAULT, "zones_fault"),
        (M.ZONE_TAMPER, "zones_tamper"),
        (M.DETECTOR_BATTERY_LOW, "zones_detector_low"),
    ):
        column = m.column(meaning)
        zones.update(column)
        count = sum(1 for v in column.values() if v is True or v == 1)
        if count:
            counts.append(m.text(key).format(count=count))
    if zones:
        text = m.text("zones").format(parts=m.text("and").join(counts)) if counts else None
        figures.append(
            Figure("zones", text, State.DEGRADED)
            if text
            else Figure("zones", m.text("zones_ok").format(of=len(zones)))
        )
    if m.number(M.REPORTING_FAILED):
        figures.append(Figure("reporting", m.text("reporting_failed"), State.DEGRADED))
    if m.number(M.ENCLOSURE_TAMPER):
        figures.append(Figure("enclosure", m.text("enclosure_open"), State.DEGRADED))
    return figures


def _temperature(m: _Meant) -> list[Figure]:
    value = m.number(M.TEMPERATURE)
    if value is None:
        return []
    return [Figure("temperature", m.text("temperature").format(value=f"{value:.0f}"))]


def _clock(m: _Meant) -> list[Figure]:
    value = m.number(M.CLOCK)
    polled = m.device.last_poll
    if value is None or polled is None:
        return []
    offset = value - polled.timestamp()
    if abs(offset) < CLOCK_SHOWN:
        return []
    text = m.text("clock").format(offset=humanize.clock_offset(value, polled.timestamp(), m.tr))
    return [Figure("clock", text, State.DEGRADED if abs(offset) > CLOCK_OFF else State.OK)]


_FIGURES = (
    _uptime,
    _ports,
    _errors,
    _cameras,
    _disks,
    _trunks,
    _panel,
    _power,
    _battery,
    _temperature,
    _clock,
)
