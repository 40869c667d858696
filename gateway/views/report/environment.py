"""Fans and temperatures of a device, as its profile's meanings name them.

Two shapes carry them. ENTITY-SENSOR-MIB's (a generic switch): one sensor table whose
`sensor_type` says which rows are fans (`rpm`) and temperatures (`celsius`). A vendor's
own tables (HUAWEI-ENTITY-EXTENT-MIB, CISCO-ENVMON-MIB, HH3C-ENTITY-EXT-MIB,
SYNOLOGY-SYSTEM-MIB): a `fan_state` per fan (beside it, where the table says so, the
fan's `fan_present` or the row's `entity_class`), a `sensor_temperature` per row with
its `temperature_limit` or the device's own `temperature_state`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.config.meanings import (
    ENTITY_FAN,
    FAN_ABSENT,
    FAN_NOT_FITTED_STATES,
    FAN_OK_STATES,
    SENSOR_CELSIUS,
    SENSOR_RPM,
    TEMPERATURE_NO_SENSOR_STATES,
    TEMPERATURE_OK_STATES,
    Meaning,
    points_meaning,
)
from gateway.i18n import Translator
from gateway.i18n.states import state_text
from gateway.snapshot.build import natural
from gateway.views.charts import CHARTED
from gateway.views.report.measure import Lookup, number
from gateway.views.report.model import Item, Mark, Section

M = Meaning
HOT = 60.0  # °C: too hot for a sensor whose device names no limit of its own


@dataclass(frozen=True, slots=True)
class Fan:
    name: str
    failed: bool
    rpm: float | None = None  # an ENTITY-SENSOR-MIB fan's speed
    state: str | None = None  # a vendor's fan state (normal, abnormal, critical...)


@dataclass(frozen=True, slots=True)
class Temperature:
    name: str
    celsius: float | None
    hot: bool
    limit: float | None = None  # the device's own threshold for it
    state: str | None = None  # the device's own judgement of it, when not ok


async def sensors(lookup: Lookup, kind: str) -> list[tuple[str, str, float | None]]:
    """(sensor, state, value in its unit) of the ENTITY-SENSOR-MIB sensors of ``kind``
    (rpm, celsius, truthvalue)."""
    found = []
    value_point = lookup.named(M.SENSOR_VALUE)
    for instance, sensor_type in lookup.texts(lookup.named(M.SENSOR_TYPE)).items():
        if sensor_type != kind:
            continue
        raw = await lookup.latest(value_point, instance)
        precision = await lookup.latest(lookup.named(M.SENSOR_PRECISION), instance) or 0
        value = None if raw is None else raw / 10 ** int(precision)
        status = lookup.text(lookup.named(M.SENSOR_STATUS), instance) or "ok"
        found.append((lookup.instance_label(value_point, instance), status, value))
    return found


async def _rows(lookup: Lookup, column: str) -> list[str]:
    """The instances of a table column: those in the snapshot, those with history."""
    rows = set(lookup.texts(column)) | set(await lookup.instances(column))
    return sorted(rows, key=natural)


async def _is_fan(lookup: Lookup, column: str, row: str) -> bool:
    """A row of a fan table is a fan unless its presence says absent; a row of a
    table of every entity is a fan when its class says so."""
    kind = lookup.beside(column, M.ENTITY_CLASS)
    if kind is not None and await lookup.state(kind, row) != ENTITY_FAN:
        return False
    present = lookup.beside(column, M.FAN_PRESENT)
    return present is None or await lookup.state(present, row) != FAN_ABSENT


def fan_label(lookup: Lookup, column: str, row: str, tr: Translator) -> str:
    """The fan's name in its table (its label column), else "fan <index>"."""
    label = lookup.instance_label(column, row)
    return tr.gettext("fan {fan}").format(fan=row) if label == row else label


async def fans(lookup: Lookup, tr: Translator) -> list[Fan]:
    found = [
        Fan(name, failed=status != "ok" or not rpm, rpm=rpm)
        for name, status, rpm in await sensors(lookup, SENSOR_RPM)
    ]
    points = points_meaning(lookup.profile, M.FAN_STATE)
    scalars = [point for point in points if not lookup.is_column(point)]
    for place, point in enumerate(scalars, start=1):
        state = await lookup.state(point)
        if state is not None and state not in FAN_NOT_FITTED_STATES:
            # Named by its place (fan 2), in the site's language: its point's name is
            # for the device page's details.
            name = tr.gettext("fan {fan}").format(fan=place)
            found.append(Fan(name, failed=state not in FAN_OK_STATES, state=state))
    for point in (point for point in points if lookup.is_column(point)):
        for row in await _rows(lookup, point):
            state = await lookup.state(point, row)
            if state is None or state in FAN_NOT_FITTED_STATES:
                continue
            if await _is_fan(lookup, point, row):
                name = fan_label(lookup, point, row, tr)
                found.append(Fan(name, failed=state not in FAN_OK_STATES, state=state))
    return found


async def temperatures(lookup: Lookup) -> list[Temperature]:
    found = [
        Temperature(name, value, hot=(value is not None and value > HOT) or status != "ok")
        for name, status, value in await sensors(lookup, SENSOR_CELSIUS)
    ]
    for point in points_meaning(lookup.profile, M.SENSOR_TEMPERATURE):
        limit_point = lookup.beside(point, M.TEMPERATURE_LIMIT)
        state_point = lookup.beside(point, M.TEMPERATURE_STATE)
        for row in await _rows(lookup, point):
            value = await lookup.latest(point, row)
            limit = await lookup.latest(limit_point, row)
            state = await lookup.state(state_point, row)
            if value is None or state in TEMPERATURE_NO_SENSOR_STATES:
                continue
            if limit_point is not None and (limit is None or limit <= 0):
                continue  # a row (a board, an entity) without a temperature sensor
            judged = state is not None and state not in TEMPERATURE_OK_STATES
            hot = judged or value > (limit if limit is not None else HOT)
            found.append(
                Temperature(
                    lookup.instance_label(point, row), value, hot, limit,
                    state if judged else None,
                )
            )  # fmt: skip
    return found


def _fan_text(fan: Fan, tr: Translator) -> str:
    _ = tr.gettext
    if fan.state is None:
        return _("FAILED") if fan.failed else number(fan.rpm, "rpm")
    word = state_text(fan.state, tr)
    return _("FAILED ({state})").format(state=word) if fan.failed else word


def _temperature_text(temperature: Temperature, tr: Translator) -> str:
    text = number(temperature.celsius, "°C")
    if temperature.state is not None:
        return f"{text} ({state_text(temperature.state, tr)})"
    if temperature.hot and temperature.limit is not None:
        limit = number(temperature.limit, "°C")
        return tr.gettext("{value}, above its limit {limit}").format(value=text, limit=limit)
    return text


async def environment_section(lookups: Sequence[Lookup], tr: Translator) -> Section:
    _ = tr.gettext
    fan_texts, temp_texts = [], []
    fan_attention = temp_attention = False
    for lookup in lookups:
        for fan in await fans(lookup, tr):
            fan_attention = fan_attention or fan.failed
            fan_texts.append(f"{lookup.label} {fan.name} {_fan_text(fan, tr)}")
        for temperature in await temperatures(lookup):
            temp_attention = temp_attention or temperature.hot
            text = _temperature_text(temperature, tr)
            temp_texts.append(f"{lookup.label} {temperature.name} {text}")
        for meaning in (M.BATTERY_TEMPERATURE, M.TEMPERATURE):
            temp_point = await lookup.first_of(meaning)
            if temp_point is not None:  # named by what it means, as the charts are
                value = number(await lookup.latest(temp_point), "°C")
                temp_texts.append(f"{lookup.label} {_(CHARTED[meaning][0])} {value}")
                break
    fan_item = (
        Item(_("Fans"), Mark.ATTENTION if fan_attention else Mark.OK, _("; ").join(fan_texts))
        if fan_texts
        else Item(_("Fans"), Mark.NOT_MEASURED, _("no fan sensors measured"))
    )
    temp_item = (
        Item(
            _("Temperatures"),
            Mark.ATTENTION if temp_attention else Mark.OK,
            _("; ").join(temp_texts),
        )
        if temp_texts
        else Item(_("Temperatures"), Mark.NOT_MEASURED, _("no temperature sensors measured"))
    )
    return Section(_("Fans and temperatures"), (fan_item, temp_item))
