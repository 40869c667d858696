"""A small site file for in-process tests: a core switch, an NVR behind it, a UPS."""

from __future__ import annotations

from pathlib import Path


def write_small_site(directory: Path) -> Path:
    """The site file in ``directory``; its state dir is ``directory/state``."""
    path = directory / "site.yaml"
    path.write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        f"agent: {{state_dir: {directory / 'state'}}}\n"
        "devices:\n"
        "  - {id: sw, kind: switch, profile: switch-generic, address: 10.0.0.1, role: core}\n"
        "  - {id: nvr, name: Recorder, kind: nvr, profile: nvr-hikvision, address: 10.0.0.2,"
        " parent: sw}\n"
        "  - {id: ups, kind: ups, profile: ups-rfc1628, address: 10.0.0.3}\n"
    )
    return path
