"""Values as people read them: durations (``2 d 4 h``), sizes (``2.26 TB``), rates,
percentages, a clock's offset (``+6 min``), times in the site's time zone and states
in words. Units are SI symbols; sizes are decimal (1 TB = 10^6 MB), as disk makers
state them."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.i18n import N_, NP_, Translator, translator
from gateway.i18n.states import word_of
from gateway.model import Value

# Every word this module writes, in one place.
TEXT = {
    "none": "-",
    "in_step": N_("in step"),
    "yes": "yes",
    "no": "no",
}
# (seconds, symbol) from the largest unit down.
DURATION_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))
# A number of each unit, in English; other languages write their own words (天, 小时).
DURATION_TEXT = {"d": N_("{n} d"), "h": N_("{n} h"), "min": N_("{n} min"), "s": N_("{n} s")}
SIZE_UNITS = ("MB", "GB", "TB", "PB")  # steps of 1000 from MB
BIT_RATE_UNITS = ("bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s")
# The words of units written as words in another language (a profile's ``errors``,
# 个; ``min``, 分钟; per day, 天); a symbol people read in any language (MB, ms, V,
# %, bit/s) is not here and stays as it is.
UNIT_CONTEXT = "unit"
UNIT_WORDS = {
    "errors": NP_("unit", "errors"),
    "d": NP_("unit", "d"),
    "h": NP_("unit", "h"),
    "min": NP_("unit", "min"),
    "s": NP_("unit", "s"),
    "C": NP_("unit", "C"),
}


def is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def duration(seconds: float, tr: Translator | None = None) -> str:
    """``2 d 4 h``, ``3 h 5 min``, ``4 min 10 s``, ``35 s``: the two largest units
    (the second left out when it is 0), in ``tr``'s words (``2 天 4 小时``)."""
    _ = (tr or translator()).gettext
    left = int(abs(seconds))
    for index, (size, symbol) in enumerate(DURATION_UNITS):
        if left < size and size != 1:
            continue
        text = _(DURATION_TEXT[symbol]).format(n=left // size)
        if index + 1 < len(DURATION_UNITS):
            next_size, next_symbol = DURATION_UNITS[index + 1]
            if small := left % size // next_size:
                text += " " + _(DURATION_TEXT[next_symbol]).format(n=small)
        return text
    return ""  # not reached: the last unit takes any value


def _scaled(value: float, units: tuple[str, ...], step: float = 1000.0) -> str:
    index = 0
    while abs(value) >= step and index < len(units) - 1:
        value /= step
        index += 1
    digits = 0 if index == 0 or abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {units[index]}"


def size_mb(megabytes: float) -> str:
    """A size given in MB (as recorders report disks): ``2.26 TB``, ``512 GB``."""
    return _scaled(float(megabytes), SIZE_UNITS)


def bit_rate(bytes_per_second: float) -> str:
    """A port's traffic, given in bytes per second, in bits as links are rated."""
    return _scaled(float(bytes_per_second) * 8, BIT_RATE_UNITS)


def percent(share: float, of: float = 100.0) -> str:
    """``56 %``: ``share`` of ``of`` (a percentage already when ``of`` is 100)."""
    if not of:
        return TEXT["none"]
    value = share * 100.0 / of
    return f"{value:.0f} %" if abs(value) >= 10 or value == 0 else f"{value:.1f} %"


def rate(per_second: float, unit: str = "", tr: Translator | None = None) -> str:
    """A small per-second rate: ``0.3/s``, ``12/s`` (``0.3/秒`` in ``tr``'s words)."""
    digits = 0 if per_second == 0 or abs(per_second) >= 10 else 1 if abs(per_second) >= 1 else 2
    return f"{per_second:.{digits}f}{(' ' + unit) if unit else ''}{unit_text('/s', tr)}"


def unit_text(unit: str, tr: Translator | None = None) -> str:
    """A unit in ``tr``'s words, part by part: ``errors/s/d`` -> ``个/秒/天``, ``MB/d``
    -> ``MB/天``, ``C`` -> ``°C``; a rate of bits (``Mbit/s``) as it is."""
    if tr is None:
        return unit
    kept = next((r for r in BIT_RATE_UNITS if unit == r or unit.startswith(r + "/")), "")
    words = (
        tr.pgettext(UNIT_CONTEXT, UNIT_WORDS[part]) if part in UNIT_WORDS else part
        for part in unit.removeprefix(kept).split("/")
    )
    return kept + "/".join(words)


def clock_offset(
    device_seconds: float, reference_seconds: float, tr: Translator | None = None
) -> str:
    """How far a device's clock is from the gateway's: ``+6 min`` (ahead), ``-40 s``
    (behind), ``in step`` within a second."""
    offset = device_seconds - reference_seconds
    if abs(offset) < 1:
        return (tr or translator()).gettext(TEXT["in_step"])
    return ("+" if offset > 0 else "-") + duration(offset, tr)


def local_time(when: datetime | None, zone: str | None = None) -> str:
    """``2026-11-20 17:29`` in the site's time zone (an IANA name; UTC without one)."""
    if when is None:
        return TEXT["none"]
    tz = ZoneInfo(zone) if zone else None
    shown = when.astimezone(tz) if tz is not None else when
    suffix = "" if tz is not None else " UTC"
    return f"{shown:%Y-%m-%d %H:%M}{suffix}"


def state_word(state: str) -> str:
    """A state as a word: ``smart_failed`` -> ``smart failed``."""
    return word_of(state)


def number(value: Value, unit: str = "") -> str:
    """Any reading: a number grouped and rounded, with its unit; text as it is."""
    if value is None:
        return TEXT["none"]
    if isinstance(value, bool):
        return TEXT["yes"] if value else TEXT["no"]
    if isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        return state_word(value) if unit == "" and value.isidentifier() else value
    return f"{text} {unit}".rstrip() if unit not in ("%",) else f"{text} %"
