"""``lvgw mib draft-profile``: a profile to trim, drafted from a compiled MIB module.

Every readable scalar becomes a point (its instance ``.0``), every table its columns
(the table's index objects named in a comment), every notification a trap with its
objects as ``values``; an enumeration becomes ``states:``. OIDs are written as
``MODULE::name``, so the draft reads like the MIB. It has no rules: which values are
faults, and how bad, is the installer's to say.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gateway.mibs.store import MibLibrary, MibObject

# SMI base types -> profile point types (docs/profiles.md, Points).
_BASE_TYPES = {
    "INTEGER": "int",
    "Integer32": "int",
    "Unsigned32": "gauge",
    "Gauge32": "gauge",
    "Gauge": "gauge",
    "Counter32": "counter32",
    "Counter": "counter32",
    "Counter64": "counter64",
    "TimeTicks": "timeticks",
    "OCTET STRING": "text",
    "OBJECT IDENTIFIER": "oid",
}
# Textual conventions read other than as their base type.
_CONVENTIONS = {"DateAndTime": "dateandtime"}
_READABLE = ("read-only", "read-write", "read-create")


@dataclass(frozen=True, slots=True)
class _Syntax:
    type: str | None  # the point type, None when no point type reads it
    smi: str  # the SMI type as the MIB writes it, for the comments
    states: dict[int, str]


def snake(name: str) -> str:
    """``ifHCInOctets`` -> ``if_hc_in_octets``: a point name from a MIB name."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name.replace("-", "_"))
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _enumeration(syntax: dict[str, Any]) -> dict[int, str]:
    found = (syntax.get("constraints") or {}).get("enumeration") or {}
    return {int(code): str(label) for label, code in sorted(found.items(), key=lambda i: i[1])}


class _Drafter:
    def __init__(self, library: MibLibrary, module: str) -> None:
        self.library = library
        self.module = module
        self.data = library.module(module) or {}
        imports = self.data.get("imports") or {}
        self.imported = {
            name: other
            for other, names in imports.items()
            if isinstance(names, list)
            for name in names
        }

    def _convention(self, name: str) -> dict[str, Any] | None:
        """A textual convention of this module or one it imports."""
        for module in (self.module, self.imported.get(name)):
            found = self.library.find(module, name) if module else None
            if found is not None and found.kind == "textualconvention":
                return found.data
        return None

    def syntax(self, obj: MibObject) -> _Syntax:
        syntax: dict[str, Any] = obj.data.get("syntax") or {}
        smi = str(syntax.get("type", "?"))
        states = _enumeration(syntax)
        name = smi
        for _ in range(8):  # a convention may be defined on another; a few levels at most
            if name in _CONVENTIONS:
                return _Syntax(_CONVENTIONS[name], smi, states)
            if name in _BASE_TYPES:
                return _Syntax(_BASE_TYPES[name], smi, states)
            convention = self._convention(name)
            if convention is None:
                break
            base = convention.get("type") or {}
            states = states or _enumeration(base)
            name = str(base.get("type", "?"))
        return _Syntax(None, smi, states)

    def objects(self) -> list[MibObject]:
        return [o for o in self.library.objects(self.module) if o.oid is not None]


def _readable(obj: MibObject) -> bool:
    return obj.kind == "objecttype" and obj.data.get("maxaccess") in _READABLE


def _point(ref: str, syntax: _Syntax, obj: MibObject) -> str:
    assert syntax.type is not None
    fields = [f"oid: {ref}", f"type: {syntax.type}"]
    unit = "s" if syntax.type == "timeticks" else obj.data.get("units")
    if unit:
        fields.append(f"unit: {json.dumps(str(unit))}")
    if syntax.states and syntax.type == "int":
        states = ", ".join(f"{code}: {json.dumps(label)}" for code, label in syntax.states.items())
        fields.append(f"states: {{{states}}}")
    return "{" + ", ".join(fields) + "}"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def draft_profile(library: MibLibrary, module: str, kind: str) -> str:
    """The draft profile's YAML text; UnknownName (from the library) if the module
    is not compiled in its directories."""
    drafter = _Drafter(library, module)
    objects = drafter.objects()
    by_name = {o.name: o for o in objects}
    lines = [
        f"# Draft profile from {module}, written by lvgw mib draft-profile: trim it to the",
        "# values that matter, name the states the rules speak of, add rules",
        "# (docs/profiles.md). OIDs are names from the compiled MIB, resolved as it loads.",
        f"description: {json.dumps(f'Drafted from {module}')}",
        f"kinds: [{kind}]",
        "protocol: snmp",
    ]
    skipped: list[str] = []
    points: list[str] = []
    taken: set[str] = set()
    for obj in objects:
        if obj.node_type != "scalar" or not _readable(obj):
            continue
        syntax = drafter.syntax(obj)
        if syntax.type is None:
            skipped.append(f"{obj.name} ({syntax.smi})")
            continue
        name = _unique(snake(obj.name), taken)
        points.append(f"  {name}: {_point(f'{module}::{obj.name}.0', syntax, obj)}")
    if points:
        lines += ["", "points:", *points]
    tables = _tables(drafter, objects, by_name, skipped)
    if tables:
        lines += ["", "tables:", *tables]
    traps = _traps(module, objects)
    if traps:
        lines += ["", "traps:", *traps]
    if skipped:
        lines += ["", "# Left out, of a type no point reads:"]
        lines += [f"#   {text}" for text in skipped]
    return "\n".join(lines) + "\n"


def _indexes(row: MibObject, by_name: dict[str, MibObject], library: MibLibrary) -> list[str]:
    """The index objects of a table's row (those of the row it augments, if it does)."""
    augments = row.data.get("augmention")
    if isinstance(augments, dict):
        base = by_name.get(str(augments.get("object")))
        if base is None and augments.get("module"):
            base = library.find(str(augments["module"]), str(augments.get("object")))
        row = base or row
    return [str(i.get("object")) for i in row.data.get("indices") or [] if isinstance(i, dict)]


def _tables(
    drafter: _Drafter, objects: list[MibObject], by_name: dict[str, MibObject], skipped: list[str]
) -> list[str]:
    lines: list[str] = []
    taken: set[str] = set()
    for table in (o for o in objects if o.node_type == "table"):
        row = next((o for o in objects if o.node_type == "row" and o.oid == f"{table.oid}.1"), None)
        if row is None:
            continue
        indexes = _indexes(row, by_name, drafter.library)
        prefix = f"{row.oid}."
        columns = []
        names: set[str] = set()
        table_name = _unique(snake(table.name.removesuffix("Table")) or "table", taken)
        for column in objects:
            if column.node_type != "column" or not (column.oid or "").startswith(prefix):
                continue
            if column.name in indexes or not _readable(column):
                continue
            syntax = drafter.syntax(column)
            if syntax.type is None:
                skipped.append(f"{column.name} ({syntax.smi})")
                continue
            name = snake(column.name).removeprefix(f"{table_name}_") or snake(column.name)
            name = _unique(name, names)
            point = _point(f"{drafter.module}::{column.name}", syntax, column)
            columns.append(f"      {name}: {point}")
        if not columns:
            continue
        instance = re.sub(r"[^a-z_]", "", snake(indexes[0] if indexes else "row")).strip("_")
        lines += [
            f"  {table_name}:   # {table.name}, one row per {', '.join(indexes) or 'index'}",
            f"    instance: {instance or 'row'}",
            "    columns:",
            *columns,
        ]
    return lines


def _traps(module: str, objects: list[MibObject]) -> list[str]:
    lines: list[str] = []
    taken: set[str] = set()
    for trap in (o for o in objects if o.kind == "notificationtype"):
        name = _unique(snake(trap.name), taken)
        values = []
        keys: set[str] = set()
        for varbind in trap.data.get("objects") or []:
            if isinstance(varbind, dict) and varbind.get("object"):
                key = _unique(snake(str(varbind["object"])), keys)
                values.append(f"{key}: {varbind.get('module') or module}::{varbind['object']}")
        lines.append(f"  {name}:")
        lines.append(f"    oid: {module}::{trap.name}")
        if values:
            lines.append(f"    values: {{{', '.join(values)}}}")
    return lines
