"""YAML files that remember where each value came from, for `FILE:LINE` errors.

Mappings load as ``LineDict`` and sequences as ``LineList``: plain ``dict``/``list``
subclasses that also know the line of each key or item, so a validation error found
later (a pydantic ``loc`` tuple, a cross-reference) can name the line it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from simulators.errors import ConfigError, located


class LineDict(dict[Any, Any]):
    """A mapping from a YAML file, with the line of the mapping and of each key."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[Any, int] = {}


class LineList(list[Any]):
    """A sequence from a YAML file, with the line of the sequence and of each item."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[int] = []


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node, deep=True))
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            data.lines[loader.construct_object(key_node)] = key_node.start_mark.line + 1


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_sequence(node, deep=True))
    data.lines.extend(item.start_mark.line + 1 for item in node.value)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def load(path: Path) -> Any:
    """Parse a YAML file; syntax errors become a ConfigError with the file's line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError.at(path, None, f"cannot read: {exc.strerror}") from exc
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError.at(path, line, f"invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError.at(path, None, f"invalid YAML: {exc}") from exc


M = TypeVar("M", bound=pydantic.BaseModel)


def load_model(path: Path, model: type[M], what: str, describe: Any = None) -> tuple[M, LineDict]:
    """Load a YAML mapping and validate it; returns the model and the raw, lined data."""
    data = load(path)
    if not isinstance(data, LineDict):
        raise ConfigError.at(path, getattr(data, "line", 1), f"a {what} file is a mapping")
    try:
        parsed = model.model_validate(data)
    except pydantic.ValidationError as exc:
        describer = describe(data) if describe is not None else None
        raise ConfigError(validation_problems(path, data, exc, describer)) from exc
    return parsed, data


def line_of(data: Any, loc: Sequence[int | str]) -> int | None:
    """The line of the deepest element of ``loc`` that the file knows about."""
    line = getattr(data, "line", None) or None
    node = data
    for step in loc:
        if isinstance(node, LineDict) and step in node:
            line = node.lines.get(step, line)
            node = node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            line = node.lines[step]
            node = node[step]
        else:
            break
        inner = getattr(node, "line", 0)
        line = inner or line
    return line


def validation_problems(
    path: Path, data: Any, exc: pydantic.ValidationError, describe: Any = None
) -> list[str]:
    """One `FILE:LINE: where: message` line per pydantic error.

    ``describe(loc)`` may turn a location into friendlier words (e.g. a device id).
    """
    problems = []
    for error in exc.errors():
        loc = tuple(step for step in error["loc"] if not _is_union_tag(step))
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc += (str(error.get("ctx", {}).get("discriminator", "")).strip("'"),)
        where = describe(loc) if describe is not None else _dotted(loc)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(located(path, line_of(data, loc), f"{where}: {message}"))
    return problems


def _is_union_tag(step: int | str) -> bool:
    # Discriminated unions add the tag value (e.g. "switch") to the location.
    return isinstance(step, str) and step in _UNION_TAGS


_UNION_TAGS: set[str] = set()


def register_union_tags(tags: Sequence[str]) -> None:
    _UNION_TAGS.update(tags)


def _dotted(loc: Sequence[int | str]) -> str:
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "file"


_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> float:
    """``30s``, ``5m``, ``1h``, ``250ms``, ``4m10s`` or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration like 30s, 5m or 1h")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if _DURATION.match(text) is None:
        raise ValueError(f"{value!r} is not a duration like 30s, 5m, 4m10s or 1h")
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))
