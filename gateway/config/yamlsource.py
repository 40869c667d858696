"""YAML loading that remembers where every key and item came from.

The result is plain Python data plus a ``LineMap`` from a location path
(``("devices", 2, "address")``) to the line it starts on, so a validation error
on any field can be reported as ``FILE:LINE: message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gateway.config.errors import ConfigError, ConfigProblem

Loc = tuple[str | int, ...]


@dataclass(slots=True)
class LineMap:
    file: Path
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int:
        """The line of the deepest known prefix of ``loc`` (1 for the file itself)."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, loc: Sequence[str | int], message: str) -> ConfigProblem:
        return ConfigProblem(self.file, self.line_of(loc), message)


def _convert(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[str]) -> Any:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(f"{key_node.start_mark.line + 1}: a key must be a plain name")
                continue
            key = key_node.value  # keys stay text; models coerce "1" to 1 where they need
            if key in result:
                problems.append(f"{key_node.start_mark.line + 1}: duplicate key '{key}'")
            lines[(*loc, key)] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, (*loc, key), lines, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*loc, i), lines, problems) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _SCALARS.construct_object(node)


# One loader instance only to turn scalar nodes into Python values (int, bool, date...).
_SCALARS = yaml.SafeLoader("")


def load_yaml(path: Path) -> tuple[Any, LineMap]:
    """Parse ``path``; syntax errors and duplicate keys raise ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigProblem(path, 1, f"cannot read file: {exc.strerror}")]) from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError([ConfigProblem(path, line, f"YAML syntax: {exc.problem}")]) from exc
    linemap = LineMap(path)
    if root is None:
        return None, linemap
    problems: list[str] = []
    data = _convert(root, (), linemap.lines, problems)
    if problems:
        raise ConfigError(
            [ConfigProblem(path, int(p.split(":", 1)[0]), p.split(": ", 1)[1]) for p in problems]
        )
    return data, linemap
