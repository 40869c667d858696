"""What each simulated switch knows of the network, from the fleet's ``parent:`` links:
its LLDP neighbours, the MAC addresses it has learned on each port and, on a switch at
the top of a tree, the ARP cache of the devices below it.

The wiring is the fleet file's: a device hangs off its parent's ``parent_port``; a
switch that has a parent reaches it through its own last port (its uplink). So a
switch learns a device's MAC on the port towards it: the port its child subtree hangs
off, or its uplink for everything else under the same top switch. Only switches speak
LLDP here (recorders, PBXs and UPSes often do not), so discovery has to find the
others' places through the forwarding tables: both paths are exercised.

MAC addresses are locally administered (02:...) and drawn from the device id, so a
fleet has the same ones on every run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simulators.fleet import Device


def base_mac(device_id: str) -> bytes:
    """A device's own MAC address (a switch's: its bridge address)."""
    return bytes([0x02, *hashlib.sha1(device_id.encode()).digest()[:5]])


@dataclass(frozen=True, slots=True)
class Neighbour:
    """The switch at the other end of a port, as its LLDP frames describe it."""

    id: str
    descr: str
    address: str
    chassis: bytes  # its bridge MAC (chassis id subtype macAddress)
    port: int  # its port facing us
    port_name: str  # ifName of that port (port id subtype interfaceName)
    port_descr: str


@dataclass(slots=True)
class SwitchView:
    """One switch's knowledge of the network."""

    neighbours: dict[int, Neighbour] = field(default_factory=dict)  # local port -> switch
    learned: dict[bytes, int] = field(default_factory=dict)  # MAC -> port (dot1dTpFdbTable)
    arp: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # address -> MAC, ifIndex
    # The tables above as the MIB layer serves them, encoded once (they never change).
    encoded: dict[str, Any] = field(default_factory=dict)


def uplink_port(switch: Device) -> int | None:
    """The port a switch reaches its parent through (its last), None at the top."""
    return int(switch.spec.ports) if switch.parent is not None else None


def views(devices: Sequence[Device]) -> dict[str, SwitchView]:
    """Every switch's view of ``devices``."""
    by_id = {device.id: device for device in devices}
    switches = [device for device in devices if device.kind == "switch"]
    out = {switch.id: SwitchView() for switch in switches}
    for switch in switches:
        parent = by_id.get(switch.parent) if switch.parent else None
        up = uplink_port(switch)
        if parent is not None and up is not None and switch.parent_port is not None:
            out[switch.id].neighbours[up] = _neighbour(parent, switch.parent_port)
            out[parent.id].neighbours[switch.parent_port] = _neighbour(switch, up)
    for device in devices:
        chain = _ancestors(device, by_id)  # (switch, port of it towards device), nearest first
        top = chain[-1][0] if chain else (device if device.kind == "switch" else None)
        for switch in switches:
            if switch is device or _top(switch, by_id) is not top or top is None:
                continue
            port = next((p for s, p in chain if s is switch), uplink_port(switch))
            if port is not None:
                out[switch.id].learned[base_mac(device.id)] = port
        if top is not None and top is not device and chain and chain[-1][1] is not None:
            out[top.id].arp[device.address] = (base_mac(device.id), chain[-1][1])
    return out


def _neighbour(switch: Device, port: int) -> Neighbour:
    flavour = switch.flavour
    return Neighbour(
        id=switch.id,
        descr=flavour.descr,
        address=switch.address,
        chassis=base_mac(switch.id),
        port=port,
        port_name=flavour.if_name.format(n=port),
        port_descr=flavour.if_descr.format(n=port),
    )


def _ancestors(device: Device, by_id: dict[str, Device]) -> list[tuple[Device, int | None]]:
    """The switches above ``device``, nearest first, each with its port towards it."""
    chain: list[tuple[Device, int | None]] = []
    below = device
    seen = {device.id}
    while below.parent is not None and below.parent not in seen:
        parent = by_id[below.parent]
        chain.append((parent, below.parent_port))
        seen.add(parent.id)
        below = parent
    return chain


def _top(switch: Device, by_id: dict[str, Device]) -> Device:
    chain = _ancestors(switch, by_id)
    return chain[-1][0] if chain else switch
