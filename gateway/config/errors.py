"""Configuration problems, each tied to a file and line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ConfigError(Exception):
    """One or more problems in the site file or its profiles; nothing was started."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (str(p.file), p.line)))
        super().__init__("\n".join(str(p) for p in self.problems))


def print_problems(exc: ConfigError) -> None:
    """Each problem on stderr as FILE:LINE: message, the form editors jump to."""
    for problem in exc.problems:
        print(problem, file=sys.stderr)


def load_or_report(load: Callable[[Path], T], path: Path) -> T | None:
    """``load(path)``, or None after printing its problems and how many there were (the
    command lines then exit 2, never with a traceback)."""
    try:
        return load(path)
    except ConfigError as exc:
        print_problems(exc)
        count = len(exc.problems)
        print(f"{path}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        return None


class Checked(Protocol):
    """A loaded file as ``check-config`` reports it."""

    @property
    def warnings(self) -> Sequence[object]: ...

    def summary(self) -> str: ...


def check_config(load: Callable[[Path], Checked], path: Path) -> bool:
    """``check-config``: the file's problems, or, when it loads, its warnings on stderr
    and what it holds on stdout. Whether it loaded."""
    loaded = load_or_report(load, path)
    if loaded is None:
        return False
    for warning in loaded.warnings:
        print(warning, file=sys.stderr)
    print(loaded.summary())
    return True
