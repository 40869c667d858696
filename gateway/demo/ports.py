"""The demo's fleet on this machine: its documented ports, or free ones where taken.

The demo fleet's devices listen on documented loopback addresses and ports
(docs/simulators.md), the recorder's ISAPI and the PBX's manager interface have TCP
ports of their own, the simulators send traps to 127.0.0.1:1162 and the alarm panel
reports over DC-09 to 127.0.0.1:12300. When another demo, or anything else, already
holds one of them, the demo moves that device (or the trap or DC-09 receiver) to a free
port on the same address instead of failing to start.
"""

from __future__ import annotations

import socket
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

# Sections of a fleet device that serve on a TCP port of their own (ISAPI, the Dahua
# API, the Asterisk Manager Interface).
API_SECTIONS = ("isapi", "dahua", "ami")


def fleet_for_demo(fleet: Traversable, workdir: Path) -> tuple[Traversable, list[str]]:
    """The fleet file to serve (``fleet`` itself when every port is free) and what moved."""
    doc: dict[str, Any] = yaml.safe_load(fleet.read_text())
    defaults = doc.setdefault("defaults", {})
    moved: list[str] = []
    receivers: dict[str, str] = {}  # a DC-09 receiver taken -> where it moved
    for device in doc["devices"]:
        sia = device.get("sia")
        if sia is not None:  # a DC-09 panel listens nowhere: its receiver must be free
            receiver = str(sia["receiver"])
            if receiver not in receivers:
                receivers[receiver] = _free_receiver(receiver)
                if receivers[receiver] != receiver:
                    moved.append(f"DC-09 receiver {receiver} -> {receivers[receiver]}")
            sia["receiver"] = receivers[receiver]
            continue
        port = device.get("port", defaults.get("port"))
        # An alarm panel speaks Modbus TCP; every other device of the fleet SNMP over UDP.
        kind = socket.SOCK_STREAM if "modbus" in device else socket.SOCK_DGRAM
        if port is not None and not _free(device["address"], int(port), kind):
            device["port"] = _any_free(device["address"], kind)
            moved.append(f"{device['id']} {device['address']}:{port} -> {device['port']}")
        for api in API_SECTIONS:  # an HTTP API or the manager interface, on TCP
            section = device.get(api)
            if section is not None and not _free(device["address"], int(section["port"]),
                                                 socket.SOCK_STREAM):  # fmt: skip
                old = section["port"]
                section["port"] = _any_free(device["address"], socket.SOCK_STREAM)
                moved.append(f"{device['id']} {api} {device['address']}:{old} -> {section['port']}")
    trap_receivers = []
    for receiver in defaults.get("trap_receivers", []):
        host, _, port = str(receiver).rpartition(":")
        if not _free(host, int(port), socket.SOCK_DGRAM):
            new = f"{host}:{_any_free(host, socket.SOCK_DGRAM)}"
            moved.append(f"trap receiver {receiver} -> {new}")
            receiver = new
        trap_receivers.append(receiver)
    if not moved:
        return fleet, moved
    defaults["trap_receivers"] = trap_receivers
    copy = workdir / fleet.name
    copy.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return copy, moved


def _free_receiver(receiver: str) -> str:
    """A DC-09 receiver listens on TCP and UDP on one port: ``receiver`` when both are
    free there, else a port of the same host free for both."""
    host, _, port = receiver.rpartition(":")
    if _free(host, int(port), socket.SOCK_STREAM) and _free(host, int(port), socket.SOCK_DGRAM):
        return receiver
    while True:
        candidate = _any_free(host, socket.SOCK_STREAM)
        if _free(host, candidate, socket.SOCK_DGRAM):
            return f"{host}:{candidate}"


def status_listen_for_demo(host: str = "127.0.0.1", port: int = 8780) -> str:
    """The status page's address: the documented one, or a free port when it is taken."""
    if _free(host, port, socket.SOCK_STREAM):
        return f"{host}:{port}"
    return f"{host}:{_any_free(host, socket.SOCK_STREAM)}"


def _free(host: str, port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        if kind == socket.SOCK_STREAM:  # as a server binds: a closing connection is no owner
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _any_free(host: str, kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
