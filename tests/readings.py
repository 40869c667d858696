"""Readings in the form the tests compare them in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the simulators' tests load the gateway only when they poll with it
    from gateway.model import Reading, Value


def by_key(readings: Iterable[Reading]) -> dict[str, Value]:
    """``point: value`` for a scalar, ``point/instance: value`` for a table's row."""
    return {f"{r.point}/{r.instance}" if r.instance else r.point: r.value for r in readings}
