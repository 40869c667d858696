"""YAML loading that remembers where every key and item came from.

The result is plain Python data plus a ``LineMap`` from a location path
(``("devices", 2, "address")``) to the line it starts on, so a validation error
on any field can be reported as ``FILE:LINE: message``.

A site file or profile is input the gateway did not write, so loading is bounded
and every failure is a ``ConfigError`` (never a traceback): at most ``max_bytes``
of UTF-8 text, nested at most ``max_depth`` levels, no aliases (``*name``: one
alias of an alias of ... expands a 1 kB file into gigabytes, and a site file
never needs one), only the standard tags, every scalar a value Python can hold.
Both limits are documented defaults; ``LVGW_YAML_MAX_BYTES`` and
``LVGW_YAML_MAX_DEPTH`` change them (they cannot live in the file they guard).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gateway.config.errors import ConfigError, ConfigProblem

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
_PLAIN_TAGS: dict[type[yaml.Node], str] = {
    yaml.MappingNode: "tag:yaml.org,2002:map",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
}

Loc = tuple[str | int, ...]


@dataclass(slots=True)
class LineMap:
    file: Path
    lines: dict[Loc, int] = field(default_factory=dict)
    # Where a location's lines are when not in ``file``: a part a profile includes.
    files: dict[Loc, Path] = field(default_factory=dict)

    def where(self, loc: Sequence[str | int]) -> tuple[Path, int]:
        """The file and line of the deepest known prefix of ``loc`` (the file's line 1
        for the file itself)."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.files.get(path, self.file), self.lines[path]
            path = path[:-1]
        return self.file, self.lines.get((), 1)

    def line_of(self, loc: Sequence[str | int]) -> int:
        return self.where(loc)[1]

    def problem(self, loc: Sequence[str | int], message: str) -> ConfigProblem:
        return ConfigProblem(*self.where(loc), message)


def _convert(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[str]) -> Any:
    lines.setdefault(loc, node.start_mark.line + 1)
    expected_tag = _PLAIN_TAGS.get(type(node))
    if expected_tag is not None and node.tag != expected_tag:
        problems.append(f"{node.start_mark.line + 1}: unsupported YAML tag {_short(node.tag)}")
        return None
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
    try:
        return _SCALARS.construct_object(node)
    except yaml.YAMLError as exc:  # a tag no safe constructor knows
        problem = getattr(exc, "problem", None) or str(exc)
        if "constructor for the tag" in problem:
            problem = f"unsupported YAML tag {_short(node.tag)}"
        problems.append(f"{node.start_mark.line + 1}: {problem}")
    except (ValueError, OverflowError) as exc:  # 2027-02-30, an integer of 5,000 digits
        problems.append(f"{node.start_mark.line + 1}: {_bad_scalar(node, exc)}")
    finally:
        # The loader remembers every node it constructed (for a document's anchors);
        # for this one-node use that would keep each file's nodes, with their marks, for
        # ever: 10,000 of them for a site of 1,000 devices, more at every reload.
        _SCALARS.constructed_objects.pop(node, None)
    return None


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _bad_scalar(node: yaml.ScalarNode, exc: Exception) -> str:
    kind = node.tag.rsplit(":", 1)[-1]
    what = {"timestamp": "a valid date or time", "int": "a usable integer"}.get(kind, kind)
    return f"not {what}: {_short(node.value)} ({exc})"


# One loader instance only to turn scalar nodes into Python values (int, bool, date...).
_SCALARS = yaml.SafeLoader("")


class _Refused(yaml.MarkedYAMLError):
    pass


class _GuardedLoader(yaml.SafeLoader):
    """The safe loader's parser and composer, refusing aliases and deep nesting."""

    max_depth = MAX_DEPTH

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                problem="YAML aliases (*name) are not supported in lvgw files: write the"
                " value out where it is used",
                problem_mark=_mark(event),
            )
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                raise _Refused(
                    problem=f"nested too deep (more than {self.max_depth} levels)",
                    problem_mark=_mark(event),
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _mark(event: yaml.Event) -> yaml.Mark | None:
    mark = event.start_mark
    return mark if isinstance(mark, yaml.Mark) else None


def _limit(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None:
        return default
    if not text.strip().isdigit() or int(text) <= 0:
        raise ValueError(f"{name}={text!r}: give a whole number greater than zero")
    return int(text)


def _read_text(path: Path) -> str:
    """The file as text, at most ``max_bytes``; ConfigError (at its line) otherwise."""
    try:
        max_bytes = _limit("LVGW_YAML_MAX_BYTES", MAX_BYTES)
    except ValueError as exc:
        raise ConfigError([ConfigProblem(path, 1, str(exc))]) from None
    try:
        with path.open("rb") as source:
            data = source.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError([ConfigProblem(path, 1, f"cannot read file: {exc.strerror}")]) from exc
    if len(data) > max_bytes:
        message = f"file too large (over {max_bytes} bytes; LVGW_YAML_MAX_BYTES changes it)"
        raise ConfigError([ConfigProblem(path, 1, message)])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError([ConfigProblem(path, 1, "the file is UTF-16: save it as UTF-8")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8 text (byte 0x{data[exc.start]:02x}): save the file as UTF-8"
        raise ConfigError([ConfigProblem(path, line, message)]) from None


def _compose(path: Path, text: str) -> yaml.Node | None:
    try:
        max_depth = _limit("LVGW_YAML_MAX_DEPTH", MAX_DEPTH)
    except ValueError as exc:
        raise ConfigError([ConfigProblem(path, 1, str(exc))]) from None
    loader: _GuardedLoader | None = None
    try:
        loader = _GuardedLoader(text)  # its reader refuses control characters (NUL...)
        loader.max_depth = max_depth
        return loader.get_single_node()
    except _Refused as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise ConfigError([ConfigProblem(path, line, str(exc.problem))]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError([ConfigProblem(path, line, f"YAML syntax: {exc.problem}")]) from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        message = (
            f"unacceptable character #x{exc.character:04x} (control characters are not allowed)"
        )
        raise ConfigError([ConfigProblem(path, line, message)]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError([ConfigProblem(path, 1, f"YAML: {exc}")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml(path: Path) -> tuple[Any, LineMap]:
    """Parse ``path``; syntax errors, duplicate keys and anything above refused raise
    ConfigError."""
    root = _compose(path, _read_text(path))
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
