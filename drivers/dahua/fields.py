"""Where a value is in a Dahua answer: a key, or a small expression over keys.

A recorder splits each disk into partitions (``Detail[0]``, ``Detail[1]``...), each
with its own bytes and error flag, so a disk's size is a sum and its health an "any".
The grammar is that and no more:

- ``Name``, ``Detail[0].TotalBytes``: the value of that key (in a row: the key after
  the row's prefix); ``.`` is the row's own value (``channels[0]=3`` has ``3``);
- ``sum(Detail[*].TotalBytes)``: the sum of the numbers at every index of ``[*]``;
- ``any(Detail[*].IsError)``: ``true`` when any of those is ``true``, else ``false``;
- ``A - B``: the difference of two of the above that are numbers.

A term that finds nothing, or a number that is not one, reads as no value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

_KEY = r"(?:[A-Za-z0-9_.]|\[[0-9]+\]|\[\*\])+"
_TERM = re.compile(rf"^(?:(sum|any)\(({_KEY})\)|({_KEY}))$")
_WILD = "[*]"


@dataclass(frozen=True, slots=True)
class _Term:
    function: str  # "", "sum" or "any"
    key: str
    pattern: re.Pattern[str] | None  # the key with [*] as any index

    def evaluate(self, values: Mapping[str, str], own: str | None) -> str | None:
        if not self.function:
            return own if self.key == "." else values.get(self.key)
        assert self.pattern is not None
        found = [v for k, v in values.items() if self.pattern.fullmatch(k)]
        if not found:
            return None
        if self.function == "any":
            words = {v.strip().lower() for v in found}
            if not words <= {"true", "false"}:
                return None
            return "true" if "true" in words else "false"
        numbers = [_number(v) for v in found]
        if any(n is None for n in numbers):
            return None
        return _text(sum(n for n in numbers if n is not None))


@dataclass(frozen=True, slots=True)
class FieldExpr:
    """A parsed field: one term, or the difference of two."""

    text: str
    left: _Term
    right: _Term | None = None

    def evaluate(self, values: Mapping[str, str], own: str | None = None) -> str | None:
        left = self.left.evaluate(values, own)
        if self.right is None or left is None:
            return left
        right = self.right.evaluate(values, own)
        a, b = _number(left), _number(right) if right is not None else None
        return None if a is None or b is None else _text(a - b)


def _term(text: str) -> _Term:
    match = _TERM.match(text.strip())
    if match is None:
        raise ValueError(f"not a Dahua key, sum(...) or any(...): {text.strip()!r}")
    function, inner, key = match.group(1) or "", match.group(2), match.group(3)
    if not function:
        if _WILD in key:
            raise ValueError(f"{key!r}: [*] needs sum(...) or any(...)")
        return _Term("", key, None)
    if inner.count(_WILD) != 1:
        raise ValueError(f"{function}({inner}): give exactly one [*]")
    before, after = inner.split(_WILD)
    pattern = re.compile(re.escape(before) + r"\[\d+\]" + re.escape(after))
    return _Term(function, inner, pattern)


def parse_field(text: str) -> FieldExpr:
    """``text`` as a field expression; ValueError saying why it is not one."""
    left, sep, right = text.partition(" - ")
    expr = FieldExpr(text, _term(left), _term(right) if sep else None)
    if sep and "any" in (expr.left.function, expr.right.function if expr.right else ""):
        raise ValueError(f"{text!r}: any(...) is true or false, not a number to subtract")
    return expr


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _text(value: float) -> str:
    """Recorders write bytes as ``495636709376.000000``: whole numbers read back whole."""
    return str(int(value)) if value.is_integer() else repr(value)
