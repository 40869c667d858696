"""Human titles of conditions, from the rule's template."""

from __future__ import annotations

import re
from collections.abc import Callable

from gateway.config.rule_checks import PLACEHOLDER, TRAP_PREFIX
from gateway.config.site import Device
from gateway.i18n import Translator, translator
from gateway.i18n.states import state_text
from gateway.model import Level, Value
from gateway.rules.expressions import AggregateNode, Scope

MAX_LISTED = 8  # instances named in {instances}; the rest are counted


def title(
    template: str,
    device: Device,
    scope: Scope,
    table: str | None,
    level: Level,
    aggregate: AggregateNode | None = None,
    tr: Translator | None = None,
) -> str:
    """``template`` with {device}, {name}, {instance}, {label}, {level}, point values
    (``{ups.charge}``, ``{ups.charge:.0f}``; a state by its word in ``tr``'s language,
    ``{disk.status}`` -> ``SMART 故障``) and, for counts and shares, {count}, {total},
    {share} and {instances} (its "and 3 more" in ``tr``'s language)."""
    values = scope.values
    tally = aggregate.tally(scope) if aggregate is not None else None

    def field(name: str, spec: str) -> str:
        if name == "device":
            return device.id
        if name == "name":
            return device.name or device.id
        if name == "instance":
            return scope.instance
        if name == "label":
            return values.label(table, scope.instance)
        if name == "level":
            return str(int(level))
        if tally is not None and aggregate is not None:
            if name == "count":
                return _format(len(tally.matching), spec)
            if name == "total":
                return _format(tally.total, spec)
            if name == "share":
                return _format(tally.share, spec or ".0%")
            if name == "instances":
                labels = [values.label(aggregate.table, i) for i in tally.matching]
                more = len(labels) - MAX_LISTED
                rest = (tr or translator()).gettext(" and {count} more").format(count=more)
                return ", ".join(labels[:MAX_LISTED]) + (rest if more > 0 else "")
        per_instance = values.names.table_of(name) is not None or name.startswith(TRAP_PREFIX)
        sample = values.get(name, scope.instance if per_instance else "")
        value = sample.reading.value if sample is not None else None
        if isinstance(value, str) and name in values.names.states:
            # A state code reads as the word the device page shows for it.
            return _format(state_text(value, tr or translator()), spec)
        return _format(value, spec)

    return render(template, field)


def render(template: str, field: Callable[[str, str], str]) -> str:
    """A title with each ``{name:spec}`` replaced by ``field(name, spec)``."""

    def one(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]  # "{{" or "}}"
        return field(match.group(1), match.group(2) or "")

    return PLACEHOLDER.sub(one, template)


def _format(value: Value, spec: str) -> str:
    if value is None:
        return "?"
    if spec:
        try:
            return format(value, spec)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
