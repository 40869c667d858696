"""net-snmp's command-line tools as the independent referee of what an agent holds."""

from __future__ import annotations

import subprocess

from drivers.snmp.base import SnmpValue, VarBind
from tests.realservers import which

# Numeric OIDs, values unadorned: strings in hex, enums and TimeTicks as numbers.
_FORMAT = ["-On", "-Oq", "-Oe", "-Ot", "-Ox"]


def parse_value(text: str) -> SnmpValue:
    if text.startswith('"'):
        return bytes.fromhex(text.strip('"').replace(" ", ""))
    if text.startswith("."):
        return text[1:]
    if text.count(".") == 3:  # IpAddress
        return text
    return int(text)


def run(tool: str, args: list[str]) -> list[VarBind]:
    """Run an snmp* tool and return its varbinds, parsed to the driver's value types."""
    out = subprocess.run(
        [which(tool), *_FORMAT, *args], capture_output=True, text=True, timeout=30, check=True
    )
    pairs: list[list[str]] = []
    for line in out.stdout.splitlines():
        if line.startswith("."):
            pairs.append(line.split(" ", 1))
        else:  # long hex strings continue on the next lines
            pairs[-1][1] += " " + line
    return [(oid.lstrip("."), parse_value(value)) for oid, value in pairs]


def bulkwalk(port: int, root: str, version: str = "2c") -> list[VarBind]:
    tool = "snmpbulkwalk" if version == "2c" else "snmpwalk"
    return run(tool, [f"-v{version}", "-c", "public", f"127.0.0.1:{port}", root])
