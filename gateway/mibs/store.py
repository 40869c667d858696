"""Compiled MIB modules (pysmi's JSON, ``<MODULE>.json``) and the names in them.

A profile may name an SNMP object as ``MODULE::object`` (``IF-MIB::ifOperStatus``) with
an optional instance (``UCD-SNMP-MIB::memAvailReal.0``). ``MibLibrary`` turns such a
name into its numeric OID from the modules compiled in its directories: a site's
``mib_dirs``, then those lvgw ships (``config/mibs/``). It is asked while profiles are
loaded, once; nothing is looked up while polling.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway import shipped

# The modules lvgw ships compiled, and the sources they were compiled from.
SHIPPED_DIR = shipped.mibs_dir()
SHIPPED_SOURCES = SHIPPED_DIR / "src"
# A compiled module is JSON of at most a few MB (IF-MIB: 40 kB); a larger file is not one.
MAX_COMPILED_BYTES = 16 * 1024 * 1024

SYMBOLIC = re.compile(
    r"^(?P<module>[A-Za-z][A-Za-z0-9-]*)::(?P<name>[A-Za-z][A-Za-z0-9-]*)"
    r"(?P<instance>(\.(0|[1-9][0-9]*))*)$"
)


class UnknownName(ValueError):
    """A symbolic name that no compiled module in the directories resolves."""


@dataclass(frozen=True, slots=True)
class MibObject:
    """One definition of a compiled module, as pysmi's JSON gives it."""

    module: str
    name: str
    data: dict[str, Any]

    @property
    def oid(self) -> str | None:
        oid = self.data.get("oid")
        return oid if isinstance(oid, str) else None

    @property
    def kind(self) -> str:
        """``objecttype``, ``notificationtype``, ``textualconvention``..."""
        return str(self.data.get("class", ""))

    @property
    def node_type(self) -> str:
        """An object type's ``scalar``, ``table``, ``row`` or ``column``."""
        return str(self.data.get("nodetype", ""))


def is_symbolic(text: str) -> bool:
    """Whether ``text`` is written as ``MODULE::name``, right or wrong."""
    return "::" in text


@dataclass
class MibLibrary:
    """The compiled modules of some directories, read when first asked for."""

    dirs: tuple[Path, ...]
    # A module read, None when no directory has it, or why it could not be read.
    _modules: dict[str, dict[str, Any] | UnknownName | None] = field(default_factory=dict)

    @classmethod
    def over(cls, dirs: Iterable[Path]) -> MibLibrary:
        """The modules of ``dirs`` (first wins), then those lvgw ships."""
        return cls(tuple(dict.fromkeys([*dirs, SHIPPED_DIR])))

    def module(self, name: str) -> dict[str, Any] | None:
        """A compiled module by name, None if no directory has it; UnknownName if the
        file that has it cannot be read."""
        if name not in self._modules:
            try:
                self._modules[name] = self._load(name)
            except UnknownName as exc:
                self._modules[name] = exc
        found = self._modules[name]
        if isinstance(found, UnknownName):
            raise found
        return found

    def _load(self, name: str) -> dict[str, Any] | None:
        for directory in self.dirs:
            path = directory / f"{name}.json"
            if path.is_file():
                return _read_compiled(path)
        return None

    def objects(self, module: str) -> Iterator[MibObject]:
        """Every definition of a module, in its order (its ``meta`` and ``imports`` left
        out)."""
        data = self.module(module) or {}
        for name, value in data.items():
            if isinstance(value, dict) and name not in ("meta", "imports"):
                yield MibObject(module, name, value)

    def find(self, module: str, name: str) -> MibObject | None:
        value = (self.module(module) or {}).get(name)
        return MibObject(module, name, value) if isinstance(value, dict) else None

    def looked_in(self) -> str:
        return ", ".join(str(d) for d in self.dirs)

    def resolve(self, text: str) -> str:
        """The numeric OID of ``MODULE::name[.instance]``; UnknownName says why not."""
        found = SYMBOLIC.match(text)
        if not found:
            raise UnknownName(
                f"{text!r} is neither a numeric OID nor MODULE::name (e.g. IF-MIB::ifOperStatus)"
            )
        module, name = found.group("module"), found.group("name")
        if self.module(module) is None:
            raise UnknownName(
                f"{text}: no compiled MIB module {module} (looked in {self.looked_in()};"
                " compile it with lvgw mib compile)"
            )
        definition = self.find(module, name)
        oid = definition.oid if definition is not None else None
        if oid is None:
            raise UnknownName(
                f"{text}: MIB module {module} defines no object {name}"
                f" (looked in {self.looked_in()})"
            )
        return oid + found.group("instance")


def _read_compiled(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as source:
            data = source.read(MAX_COMPILED_BYTES + 1)
    except OSError as exc:
        raise UnknownName(f"cannot read compiled MIB {path}: {exc.strerror}") from None
    if len(data) > MAX_COMPILED_BYTES:
        raise UnknownName(f"compiled MIB {path} is too large (over {MAX_COMPILED_BYTES} bytes)")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise UnknownName(f"compiled MIB {path} is not JSON ({exc}): compile it again") from None
    if not isinstance(document, dict):
        raise UnknownName(f"compiled MIB {path} is not a compiled module: compile it again")
    return document
