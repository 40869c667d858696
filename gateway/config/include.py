"""Parts profiles share: ``include: [parts/if-mib.yaml]`` (docs/profiles.md, Parts).

A part is a YAML file of the sections profiles share: ``points``, ``tables`` and
``traps`` (mappings by name) and ``rules`` (a list); it may include parts itself. A
profile's parts are read in the order it lists them, each before the profile's own
entries: their points, tables and traps first in each mapping, their rules first in
the list. A name defined twice (in two parts, or in a part and the profile) is an error
where it is defined the second time; so are an include that is not found, a part with
anything else in it, and a part that includes itself through others (a cycle). Every
problem is ``FILE:LINE`` in the file that has it: the line map of the expanded profile
knows which file each of its entries came from.

A part is looked up beside the file that includes it, then among the shipped profiles
(so a site's own profile may include the shipped parts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway import shipped
from gateway.config.errors import ConfigError, ConfigProblem
from gateway.config.yamlsource import LineMap, Loc, load_yaml

INCLUDE = "include"
NAMED = {"points": "point", "tables": "table", "traps": "trap"}  # mappings by name
SECTIONS = (*NAMED, "rules")


@dataclass(slots=True)
class _Merged:
    """The expanded profile being built: its data and where each entry came from."""

    file: Path
    data: dict[str, Any] = field(default_factory=dict)
    lines: LineMap = field(init=False)

    def __post_init__(self) -> None:
        self.lines = LineMap(self.file)

    def mark(self, source: LineMap, loc: Loc) -> None:
        """The line of ``loc`` itself (a section's key), unless it has one already."""
        if loc not in self.lines.lines and loc in source.lines:
            self.take(source, loc, loc, under=False)

    def take(self, source: LineMap, loc: Loc, to: Loc, under: bool = True) -> None:
        """The lines of ``loc`` and everything under it in ``source``, as ``to``."""
        for at, line in source.lines.items():
            if at == loc or (under and at[: len(loc)] == loc):
                moved = (*to, *at[len(loc) :])
                self.lines.lines[moved] = line
                origin = source.files.get(at, source.file)
                if origin != self.file:
                    self.lines.files[moved] = origin


def load_profile_source(path: Path) -> tuple[Any, LineMap]:
    """A profile file as data with its parts included, and where each entry is; every
    problem (its own, a part's) raised as one ConfigError."""
    data, lines = load_yaml(path)
    if not isinstance(data, dict) or INCLUDE not in data:
        return data, lines
    problems: list[ConfigProblem] = []
    expanded = _expand(path, data, lines, (path.resolve(),), problems)
    if problems:
        raise ConfigError(problems)
    return expanded


def _expand(
    path: Path, data: dict[str, Any], lines: LineMap, chain: tuple[Path, ...],
    problems: list[ConfigProblem],
) -> tuple[dict[str, Any], LineMap]:  # fmt: skip
    """``data`` with its includes (and theirs) in place."""
    sources = [*_parts(path, data.get(INCLUDE), lines, chain, problems), (data, lines)]
    merged = _Merged(path)
    merged.mark(lines, ())
    for key, value in data.items():  # the profile's own keys but its sections, as they are
        if key not in SECTIONS and key != INCLUDE:
            merged.data[key] = value
            merged.take(lines, (key,), (key,))
    for part, source in sources:
        _merge(merged, part, source, problems)
    return merged.data, merged.lines


def _parts(
    path: Path, includes: object, lines: LineMap, chain: tuple[Path, ...],
    problems: list[ConfigProblem],
) -> list[tuple[dict[str, Any], LineMap]]:  # fmt: skip
    """The parts ``includes`` names, each expanded, in order."""
    if includes is None:
        return []
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        message = "include: give a list of part files, e.g. include: [parts/if-mib.yaml]"
        problems.append(lines.problem((INCLUDE,), message))
        return []
    found = []
    for index, name in enumerate(includes):
        at: Loc = (INCLUDE, index)
        part_path = _find(path, name)
        if part_path is None:
            where = ", ".join(str(d) for d in _search(path))
            problems.append(lines.problem(at, f"include {name!r}: no such file (in {where})"))
            continue
        if part_path.resolve() in chain:
            cycle = " -> ".join(p.name for p in (*chain, part_path))
            problems.append(lines.problem(at, f"include {name!r}: a cycle ({cycle})"))
            continue
        try:
            part, part_lines = load_yaml(part_path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if not _is_part(part, part_lines, problems):
            continue
        found.append(_expand(part_path, part, part_lines, (*chain, part_path.resolve()), problems))
    return found


def _search(path: Path) -> list[Path]:
    return list(dict.fromkeys([path.parent, shipped.profiles_dir()]))


def _find(path: Path, name: str) -> Path | None:
    if Path(name).is_absolute():
        return None
    return next((d / name for d in _search(path) if (d / name).is_file()), None)


def _is_part(part: object, lines: LineMap, problems: list[ConfigProblem]) -> bool:
    if not isinstance(part, dict):
        message = "a part is a mapping of points, tables, traps, rules (and include)"
        problems.append(lines.problem((), message))
        return False
    strays = [key for key in part if key not in (*SECTIONS, INCLUDE)]
    for key in strays:
        message = f"'{key}' in a part: a part holds only points, tables, traps, rules, include"
        problems.append(lines.problem((key,), message))
    return not strays


def _merge(
    merged: _Merged, part: dict[str, Any], source: LineMap, problems: list[ConfigProblem]
) -> None:
    """``part``'s sections after what ``merged`` has: a name taken is a problem."""
    for section, kind in NAMED.items():
        entries = part.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            problems.append(source.problem((section,), f"{section}: a mapping of {kind}s"))
            continue
        into = merged.data.setdefault(section, {})
        merged.mark(source, (section,))
        for name, entry in entries.items():
            if name in into:
                first = ":".join(map(str, merged.lines.where((section, name))))
                problems.append(
                    source.problem((section, name), f"{kind} '{name}' is also defined at {first}")
                )
                continue
            into[name] = entry
            merged.take(source, (section, name), (section, name))
    rules = part.get("rules")
    if rules is None:
        return
    if not isinstance(rules, list):
        problems.append(source.problem(("rules",), "rules: a list of rules"))
        return
    into_rules = merged.data.setdefault("rules", [])
    merged.mark(source, ("rules",))
    for index, rule in enumerate(rules):
        merged.take(source, ("rules", index), ("rules", len(into_rules)))
        into_rules.append(rule)
