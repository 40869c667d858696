"""The files lvgw ships and reads at run time: the built-in profiles, the compiled MIB
modules, the example site file and the JSON schemas of the MQTT contract.

They live at their documented paths in the source tree (``config/profiles/``,
``config/mibs/``, ``config/site.example.yaml``, ``docs/schemas/``); the entries of this package are
symbolic links to them, which building a wheel turns into copies. So an installed lvgw
finds them here, through ``importlib.resources``, from whatever directory it runs,
and a checkout finds the very files it edits.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any


def _path(name: str) -> Path:
    resource = files(__name__) / name
    # Profiles are read as files on disk: a problem in one is reported as FILE:LINE.
    if not isinstance(resource, Path):
        raise RuntimeError(f"lvgw must be installed as files on disk, not zipped: {resource}")
    # In a checkout: the file the link points to, the one to edit (and name in messages).
    return resource.resolve()


def profiles_dir() -> Path:
    """The directory of the built-in profiles (``<id>.yaml``)."""
    return _path("profiles")


def mibs_dir() -> Path:
    """The directory of the compiled MIB modules (``<MODULE>.json``; their sources in
    ``src/``)."""
    return _path("mibs")


def site_example() -> Path:
    """The documented example site file."""
    return _path("site.example.yaml")


def schema(name: str) -> dict[str, Any]:
    """A JSON schema of the MQTT contract by name, e.g. ``ticket-event``."""
    text = (_path("schemas") / f"{name}.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded
