"""Errors of the rules stage."""

from __future__ import annotations

from collections.abc import Sequence


class RuleError(Exception):
    """Base of the rules stage's errors."""


class RuleConfigError(RuleError):
    """A profile's rules do not fit its points or tables; the engine cannot be built.

    ``lvgw check-config`` reports the same problems with file and line; this is the
    last guard for a configuration built without it.
    """

    def __init__(self, profile: str, problems: Sequence[str]) -> None:
        self.profile = profile
        self.problems = tuple(problems)
        super().__init__(f"profile {profile}: " + "; ".join(self.problems))
