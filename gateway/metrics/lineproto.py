"""InfluxDB line protocol: escaping and number formats, nothing else.

https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/
"""

from __future__ import annotations

import math

# Tag keys, tag values and field keys escape commas, equals signs and spaces, and
# backslashes (two backslashes read as one), so that text ending in one stays text.
_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\\": "\\\\"})
# Line protocol has no escape for line breaks: they become spaces.
_LINE_BREAKS = str.maketrans({"\n": " ", "\r": " ", "\t": " "})

TAG_VALUE_MAX = 256  # longer text (a long sysDescr) is cut: tags are index keys


def escape_key(text: str) -> str:
    """A tag key or field key, escaped."""
    return text.translate(_KEY_ESCAPES)


def escape_tag_value(text: str) -> str:
    """A tag value: line breaks to spaces, cut to TAG_VALUE_MAX, escaped.

    Returns "" for text that is empty once cleaned: the caller leaves such a tag out
    (line protocol has no empty tag values).
    """
    cleaned = text.translate(_LINE_BREAKS).strip()[:TAG_VALUE_MAX]
    return cleaned.translate(_KEY_ESCAPES)


def float_field(value: float) -> str | None:
    """A float field value (``12.5``, ``42.0``, ``1e+20``); None for NaN and infinities,
    which line protocol cannot carry."""
    if not math.isfinite(value):
        return None
    return repr(float(value))


def integer_field(value: int) -> str:
    """A signed 64-bit integer field value (``3i``)."""
    return f"{value}i"
