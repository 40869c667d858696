"""The profiles discovery chooses from: every profile file in the given directories
(the first directory that has a name wins, as for a site file)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gateway.config.errors import ConfigError, ConfigProblem
from gateway.config.load import load_profile
from gateway.config.profile import Profile


def shipped_profiles(dirs: Sequence[Path]) -> dict[str, Profile]:
    """Every profile of ``dirs`` by id; ConfigError listing every problem of any."""
    names = sorted({path.stem for d in dirs if d.is_dir() for path in d.glob("*.yaml")})
    profiles: dict[str, Profile] = {}
    problems: list[ConfigProblem] = []
    for name in names:
        profile, found = load_profile(name, dirs)
        problems += found
        if profile is not None:
            profiles[name] = profile
    if problems:
        raise ConfigError(problems)
    return profiles
