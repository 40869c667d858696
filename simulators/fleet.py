"""Load a fleet file into resolved devices: defaults applied, ``repeat`` expanded,
cross-references checked and the topology (parents, switch ports) completed.

Every problem is reported as `FILE:LINE: message`, all of them at once.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulators import yamlfile
from simulators.endpoints import split_endpoint
from simulators.errors import ConfigError, located
from simulators.flavours import DEFAULT_FLAVOUR, FLAVOURS, Flavour
from simulators.fleet_schema import (
    AlarmPanelSpec,
    FleetFile,
    Modbus,
    PanelSia,
    Site,
    Snmp,
    SnmpDeviceBase,
    SwitchSpec,
    V3User,
)
from simulators.yamlfile import LineDict, parse_duration

PROFILES = {
    "switch": "switch-generic",
    "nvr": "nvr-hikvision",
    "pbx": "pbx-asterisk",
    "ups": "ups-rfc1628",
    "alarm_panel": "alarm-panel-modbus",
}
SIA_PROFILE = "alarm-panel-sia"  # a panel that reports over DC-09

AnySpec = Any  # one of the fleet_schema *Spec models (a discriminated union)
# A device spec's sections that serve a protocol on a port of their own, beside SNMP.
HTTP_AND_MANAGER_APIS = ("isapi", "dahua", "ami")


@dataclass(frozen=True, slots=True)
class Device:
    """One simulated device, fully resolved."""

    spec: AnySpec
    id: str
    kind: str
    flavour: Flavour
    address: str
    port: int | None  # None for a serial (RTU) alarm panel and a DC-09 one
    snmp: Snmp | None
    modbus: Modbus | None
    sia: PanelSia | None  # a panel that reports over DC-09 (its account made unique)
    trap_receivers: tuple[tuple[str, int], ...]
    parent: str | None
    parent_port: int | None
    role: str | None
    interval: float
    profile: str
    line: int

    @property
    def endpoint(self) -> str:
        if self.sia is not None:
            return f"{self.sia.transport}->{self.sia.receiver}"  # it sends, it listens nowhere
        if self.modbus is not None and self.modbus.serial is not None:
            return f"rtu:{self.modbus.serial.port}"
        return f"{self.address}:{self.port}"

    @property
    def protocol(self) -> str:
        if self.sia is not None:
            return "sia"
        return "modbus" if self.modbus is not None else "snmp"

    @property
    def protocols(self) -> tuple[tuple[str, str], ...]:
        """Every protocol the device is served over, with where: ``(name, endpoint)``;
        the first is ``protocol`` at ``endpoint``, then the APIs on their own ports."""
        served = [(self.protocol, self.endpoint)]
        for api in HTTP_AND_MANAGER_APIS:
            account = getattr(self.spec, api, None)
            if account is not None:
                served.append((api, f"{self.address}:{account.port}"))
        return tuple(served)


@dataclass(frozen=True, slots=True)
class Fleet:
    path: Path
    control: tuple[str, int]
    site: Site
    devices: tuple[Device, ...]

    def by_id(self) -> dict[str, Device]:
        return {device.id: device for device in self.devices}

    def uplink_port(self, switch: Device) -> int | None:
        """A switch that hangs off another one uses its last port as the uplink."""
        return switch.spec.ports if switch.parent is not None else None


def load_fleet(path: Path) -> Fleet:
    parsed, data = yamlfile.load_model(path, FleetFile, "fleet", _describer)
    lines = data["devices"].lines
    devices = _expand(path, parsed, lines)
    _check_unique(path, devices)
    _check_v3_users(path, devices)
    devices = _complete_topology(path, devices)
    return Fleet(path, split_endpoint(parsed.control), parsed.site, tuple(devices))


def _describer(data: LineDict) -> Any:
    def describe(loc: Sequence[int | str]) -> str:
        if len(loc) >= 2 and loc[0] == "devices" and isinstance(loc[1], int):
            entries = data.get("devices")
            entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else {}
            name = entry.get("id", f"#{loc[1] + 1}") if isinstance(entry, dict) else loc[1]
            field = ".".join(str(step) for step in loc[2:]) or "entry"
            return f"device {name}: {field}"
        return ".".join(str(step) for step in loc) or "file"

    return describe


def _expand(path: Path, fleet: FleetFile, lines: list[int]) -> list[Device]:
    problems: list[str] = []
    out: list[Device] = []
    defaults = fleet.defaults
    for index, spec in enumerate(fleet.devices):
        line = lines[index]
        count = spec.repeat or 1
        width = max(3, len(str(count)))
        for n in range(count):
            ident = f"{spec.id}-{n + 1:0{width}d}" if spec.repeat else spec.id
            address = ipaddress.IPv4Address(spec.address or defaults.address)
            try:
                sia = _sia(spec, n)
            except ValueError as exc:
                problems.append(located(path, line, f"device {ident}: {exc}"))
                break
            port = None if sia is not None else spec.port or defaults.port
            serial = isinstance(spec, AlarmPanelSpec) and spec.modbus.serial is not None
            if port is None and not serial and sia is None:
                problems.append(located(path, line, f"device {ident}: port: required"))
                break
            if spec.repeat_step == "address":
                address += n
            elif port is not None:
                port += n
            if port is not None and port > 65535:
                problems.append(located(path, line, f"device {ident}: port {port} > 65535"))
                break
            parent_port = spec.parent_port + n if spec.parent_port and spec.repeat else None
            out.append(
                Device(
                    spec=spec.model_copy(update={"id": ident}),
                    id=ident,
                    kind=spec.kind,
                    flavour=FLAVOURS[spec.kind][spec.model or DEFAULT_FLAVOUR[spec.kind]],
                    address=str(address),
                    port=None if serial else port,
                    snmp=_snmp(spec, defaults.snmp),
                    modbus=spec.modbus if isinstance(spec, AlarmPanelSpec) and not sia else None,
                    sia=sia,
                    trap_receivers=_receivers(spec, defaults.trap_receivers),
                    parent=spec.parent,
                    parent_port=parent_port or spec.parent_port,
                    role=spec.role,
                    interval=parse_duration(spec.interval or defaults.interval),
                    profile=spec.profile or _default_profile(spec),
                    line=line,
                )
            )
    if problems:
        raise ConfigError(problems)
    return out


def _sia(spec: AnySpec, n: int) -> PanelSia | None:
    """A DC-09 panel's settings; the ``n``-th copy of a repeated one has the account
    number ``n`` above the first (a receiver tells its panels apart by account)."""
    sia = spec.sia if isinstance(spec, AlarmPanelSpec) else None
    if sia is None or n == 0:
        return sia
    width = len(sia.account)
    account = f"{int(sia.account, 16) + n:0{width}X}"
    if len(account) > 16:
        raise ValueError(f"sia.account {account} is longer than 16 digits")
    return sia.model_copy(update={"account": account})


def _default_profile(spec: AnySpec) -> str:
    """An NVR that serves an HTTP API, a PBX that serves AMI, is read over it, as on a
    real site; a panel that reports over DC-09 is heard through its receiver."""
    if getattr(spec, "sia", None) is not None:
        return SIA_PROFILE
    if getattr(spec, "ami", None) is not None:
        return "pbx-asterisk-ami"
    if getattr(spec, "isapi", None) is not None:
        return "nvr-hikvision-isapi"
    if getattr(spec, "dahua", None) is not None:
        return "nvr-dahua-http"
    flavour = FLAVOURS[spec.kind][spec.model or DEFAULT_FLAVOUR[spec.kind]]
    return flavour.profile or str(PROFILES[spec.kind])


def _snmp(spec: AnySpec, default: Snmp) -> Snmp | None:
    if not isinstance(spec, SnmpDeviceBase):
        return None
    return spec.snmp or default


def _receivers(spec: AnySpec, default: list[str]) -> tuple[tuple[str, int], ...]:
    if not isinstance(spec, SnmpDeviceBase):
        return ()
    chosen = spec.trap_receivers if spec.trap_receivers is not None else default
    return tuple(split_endpoint(item) for item in chosen)


def _check_unique(path: Path, devices: list[Device]) -> None:
    problems = []
    ids: dict[str, Device] = {}
    endpoints: dict[str, Device] = {}
    for device in devices:
        if device.id in ids:
            problems.append(
                located(path, device.line, f"device {device.id}: id already used on line "
                        f"{ids[device.id].line}")
            )  # fmt: skip
        ids.setdefault(device.id, device)
        if device.sia is not None:
            # It listens nowhere; panels share a receiver, which tells them by account.
            key = f"sia:{device.sia.receiver}#{device.sia.account.upper()}"
            what = f"account {device.sia.account} at {device.sia.receiver}"
        else:
            proto = "udp" if device.snmp is not None else "tcp"
            key, what = f"{proto}:{device.endpoint}", device.endpoint
        if key in endpoints:
            other = endpoints[key]
            problems.append(
                located(path, device.line, f"device {device.id}: {what} is already "
                        f"used by {other.id} (line {other.line})")
            )  # fmt: skip
        endpoints.setdefault(key, device)
    if problems:
        raise ConfigError(problems)


def _check_v3_users(path: Path, devices: list[Device]) -> None:
    """All devices share one SNMP engine, so a user name must mean one key pair."""
    seen: dict[str, tuple[V3User, Device]] = {}
    problems = []
    for device in devices:
        user = device.snmp.v3 if device.snmp is not None else None
        if user is None:
            continue
        if user.user in seen and seen[user.user][0] != user:
            other = seen[user.user][1]
            problems.append(
                located(path, device.line, f"device {device.id}: v3 user {user.user!r} has "
                        f"other keys than on {other.id} (line {other.line}); a fleet gives one "
                        "user name one key pair")
            )  # fmt: skip
        seen.setdefault(user.user, (user, device))
    if problems:
        raise ConfigError(problems)


def _complete_topology(path: Path, devices: list[Device]) -> list[Device]:
    """Check the given parents and infer the missing ones (see docs/simulators.md)."""
    by_id = {device.id: device for device in devices}
    problems = []
    for device in devices:
        if device.parent is None:
            continue
        parent = by_id.get(device.parent)
        if parent is None:
            problems.append(located(path, device.line, f"device {device.id}: parent "
                                    f"{device.parent!r} is not in the fleet"))  # fmt: skip
        elif not isinstance(parent.spec, SwitchSpec):
            problems.append(located(path, device.line, f"device {device.id}: parent "
                                    f"{parent.id} is a {parent.kind}, not a switch"))  # fmt: skip
        elif device.parent == device.id:
            problems.append(located(path, device.line, f"device {device.id}: its own parent"))
    if problems:
        raise ConfigError(problems)
    switches = [d for d in devices if isinstance(d.spec, SwitchSpec)]
    core = next((s for s in switches if s.role == "core"), None) or next(
        (s for s in switches if s.parent is None), None
    )
    resolved: dict[str, Device] = {}
    for device in devices:
        role, parent_id = device.role, device.parent
        if device is core:
            role = role or "core"
        elif isinstance(device.spec, SwitchSpec):
            role = role or "access"
            parent_id = parent_id or (core.id if core is not None else None)
        resolved[device.id] = _replace(device, role=role, parent=parent_id)
    access = [s for s in resolved.values() if s.kind == "switch" and s.role != "core"]
    hosts = access or ([resolved[core.id]] if core is not None else [])
    turn = 0
    for device in list(resolved.values()):
        if device.kind != "switch" and device.parent is None and hosts:
            resolved[device.id] = _replace(device, parent=hosts[turn % len(hosts)].id)
            turn += 1
    _check_cycles(path, resolved)
    return _assign_ports(path, list(resolved.values()))


def _check_cycles(path: Path, devices: dict[str, Device]) -> None:
    for device in devices.values():
        seen = {device.id}
        parent = device.parent
        while parent is not None:
            if parent in seen:
                raise ConfigError.at(path, device.line, f"device {device.id}: parent links "
                                     f"form a loop through {parent}")  # fmt: skip
            seen.add(parent)
            parent = devices[parent].parent


def _assign_ports(path: Path, devices: list[Device]) -> list[Device]:
    """Each child gets a port on its parent switch: the given one, or the next free."""
    by_id = {device.id: device for device in devices}
    used: dict[str, dict[int, str]] = {d.id: {} for d in devices if d.kind == "switch"}
    for switch in devices:
        if switch.kind == "switch" and switch.parent is not None:
            used[switch.id][switch.spec.ports] = "(uplink)"
    problems = []
    for device in devices:
        if device.parent is None or device.parent_port is None:
            continue
        parent = by_id[device.parent]
        taken = used[parent.id]
        if device.parent_port > parent.spec.ports:
            problems.append(located(path, device.line, f"device {device.id}: parent_port "
                                    f"{device.parent_port} > {parent.id}'s {parent.spec.ports} "
                                    "ports"))  # fmt: skip
        elif device.parent_port in taken:
            problems.append(located(path, device.line, f"device {device.id}: port "
                                    f"{device.parent_port} of {parent.id} is taken by "
                                    f"{taken[device.parent_port]}"))  # fmt: skip
        taken[device.parent_port] = device.id
    if problems:
        raise ConfigError(problems)
    out = []
    for device in devices:
        if device.parent is not None and device.parent_port is None:
            parent = by_id[device.parent]
            taken = used[parent.id]
            free = next((p for p in range(1, parent.spec.ports + 1) if p not in taken), None)
            if free is not None:
                taken[free] = device.id
                device = _replace(device, parent_port=free)
        out.append(device)
    return out


def _replace(device: Device, **changes: Any) -> Device:
    return dataclasses.replace(device, **changes)
