"""Symbolic OIDs in a profile (``oid: IF-MIB::ifOperStatus``), made numeric as the
profile is loaded, from the compiled MIB modules of a ``MibLibrary``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gateway.config.yamlsource import Loc
from gateway.mibs.store import MibLibrary, UnknownName, is_symbolic

# The keys of a profile that hold an OID: a point's and a column's oid, a trap's oid,
# instance_from and the varbinds its values copy, a match rule's sys_object_id and
# answers.
_TRAP_OIDS = ("oid", "instance_from")


def _children(node: Any, key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    items = node.get(key) if isinstance(node, dict) else None
    for name, child in (items or {}).items() if isinstance(items, dict) else ():
        if isinstance(child, dict):
            yield str(name), child


def _oid_places(data: Any) -> Iterator[tuple[Loc, Any, Any]]:
    """Every place in a profile's raw data that holds an OID: (where, its mapping or
    list, key or index)."""
    for name, point in _children(data, "points"):
        yield ("points", name, "oid"), point, "oid"
    for table_name, table in _children(data, "tables"):
        for name, column in _children(table, "columns"):
            yield ("tables", table_name, "columns", name, "oid"), column, "oid"
    for name, trap in _children(data, "traps"):
        for key in _TRAP_OIDS:
            yield ("traps", name, key), trap, key
        values = trap.get("values")
        if isinstance(values, dict):
            for value_key in list(values):
                yield ("traps", name, "values", str(value_key)), values, value_key
    rules = data.get("match") if isinstance(data, dict) else None
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        yield ("match", i, "sys_object_id"), rule, "sys_object_id"
        answers = rule.get("answers")
        for j in range(len(answers) if isinstance(answers, list) else 0):
            yield ("match", i, "answers", j), answers, j


def resolve_names(data: Any, library: MibLibrary) -> list[tuple[Loc, str]]:
    """Replace each ``MODULE::name[.instance]`` OID of a profile's raw data with its
    numeric OID, in place; the names that do not resolve, with where they are."""
    problems: list[tuple[Loc, str]] = []
    for loc, holder, key in _oid_places(data):
        value = holder[key] if isinstance(holder, list) else holder.get(key)
        if not isinstance(value, str) or not is_symbolic(value):
            continue
        try:
            holder[key] = library.resolve(value.strip())
        except UnknownName as exc:
            field = ".".join(str(part) for part in loc)
            problems.append((loc, f"field '{field}': {exc}"))
    return problems
