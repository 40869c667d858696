"""The draft site file: the devices discovery recognised, with why, and as comments
what it could not classify and where nothing answered. An installer reads it, fills
in the customer and the uplink, and checks it with `lvgw check-config`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.discover.ami import AmiLogin
from gateway.discover.classify import Chosen, Unclassified
from gateway.discover.isapi import IsapiLogin
from gateway.discover.links import Key, Links, key_of
from gateway.discover.modbus import ModbusAnswer
from gateway.discover.probe import Failed, Found

RESERVED = frozenset({"gateway", "site"})
COMMENT_CHARS = 160  # a device's own text, cut to this in a comment


@dataclass(frozen=True, slots=True)
class Sweep:
    """Everything a run found, for the draft."""

    ranges: Sequence[str]
    ports: Sequence[int]
    asked_with: Sequence[str]  # the credentials' labels (never a secret)
    found: Sequence[Found]
    classes: dict[Key, Chosen | Unclassified]
    failed: Sequence[Failed]
    links: Links
    started: dt.datetime
    seconds: float
    requests: int
    isapi: IsapiLogin | None = None  # the login recorders were asked over ISAPI with
    modbus: Sequence[ModbusAnswer] = ()  # what answered over Modbus TCP (--modbus)
    ami: AmiLogin | None = None  # the account PBXs were asked over AMI with


def safe(text: str) -> str:
    """A device's own text made safe for a one-line YAML comment, and short."""
    cleaned = re.sub(r"[\x00-\x1f\x7f\u2028\u2029\x85]+", " ", text).strip()
    return cleaned if len(cleaned) <= COMMENT_CHARS else cleaned[: COMMENT_CHARS - 3] + "..."


def quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's form, which YAML reads alike)."""
    return json.dumps(text, ensure_ascii=False)


def device_ids(found: Sequence[Found], classes: dict[Key, Chosen | Unclassified]) -> dict[Key, str]:
    """An id per classified device, from its sysName: [a-z0-9-], unique."""
    ids: dict[Key, str] = {}
    taken: set[str] = set()
    for f in found:
        chosen = classes.get(key_of(f))
        if not isinstance(chosen, Chosen):
            continue
        base = re.sub(r"[^a-z0-9]+", "-", f.identity.name.lower()).strip("-")[:56].strip("-")
        base = base if base and base not in RESERVED else chosen.kind.replace("_", "-")
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        ids[key_of(f)] = name
    return ids


def render(sweep: Sweep, site_id: str) -> str:
    found = sorted(sweep.found, key=lambda f: (_sort_address(f.address), f.port))
    ids = device_ids(found, sweep.classes)
    kept = [f for f in found if key_of(f) in ids]
    unclassified = [f for f in found if key_of(f) not in ids]
    lines = _header(sweep, len(kept), len(unclassified))
    lines += _site(site_id)
    lines.append("devices:")
    if not kept:
        lines.append("  []  # nothing recognised: see the comments below")
    for f in kept:
        lines += _device(f, sweep, ids)
    lines += _unclassified(unclassified, sweep.classes)
    lines += _modbus(sweep.modbus)
    lines += _failed(sweep.failed, sweep.links)
    return "\n".join(lines) + "\n"


def _sort_address(address: str) -> tuple[int, int]:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return 99, 0
    return parsed.version, int(parsed)


def _header(sweep: Sweep, kept: int, unclassified: int) -> list[str]:
    ports = ", ".join(map(str, sweep.ports))
    return [
        f"# Draft site file written by `lvgw discover` at {sweep.started:%Y-%m-%dT%H:%M:%SZ}.",
        f"# Swept {', '.join(sweep.ranges)} on port(s) {ports}, asking with "
        f"{', '.join(sweep.asked_with)}: {sweep.requests} requests in {sweep.seconds:.1f} s.",
        f"# {kept} device(s) recognised by a profile's match rules; {unclassified} answered "
        "but were not recognised (listed at the end, not guessed).",
        "# Before use: fill in the customer, the contract and the uplink, check each device's",
        "# parent, then run `lvgw check-config -c THIS_FILE` (docs/onboarding.md).",
    ]


def _site(site_id: str) -> list[str]:
    return [
        "site:",
        f"  id: {site_id}",
        "  name: New site  # FILL IN",
        "  # FILL IN the customer and the contract: check-config refuses the file until then.",
        "  # customer: {name: ..., contact: ..., phone: ..., address: ...}",
        "  # contract: {type: annual, ends: 2027-06-30}",
        "  zone: urban  # or suburban",
        "  # timezone: Asia/Shanghai",
        "uplink:",
        "  mqtt: {host: mqtt.example.net, port: 8883}  # FILL IN the service center's broker (TLS)",
        "",
    ]


def _device(f: Found, sweep: Sweep, ids: dict[Key, str]) -> list[str]:
    key = key_of(f)
    chosen = sweep.classes[key]
    assert isinstance(chosen, Chosen)
    identity = f.identity
    asked = f"asked with {f.credential.label}" if f.credential else "found over its API"
    lines = ["", f"  # {f.address}:{f.port} sysName {quoted(safe(identity.name))}, {asked}"]
    if f.credential is not None:
        lines.append(
            f"  #   sysObjectID {identity.object_id}, sysDescr {quoted(safe(identity.descr))}"
        )
    if f.isapi is not None:
        info = f.isapi
        lines.append(
            f"  #   ISAPI deviceInfo: deviceType {quoted(safe(info.device_type))}, model "
            f"{quoted(safe(info.model))}, firmware {quoted(safe(info.firmware))}"
        )
    if f.ami is not None:
        lines.append(f"  #   AMI banner: Asterisk Call Manager/{safe(f.ami.version)}")
    lines.append(f"  #   {safe(chosen.why)}")
    parent = sweep.links.parents.get(key)
    if key == sweep.links.core:
        lines.append(f"  #   {sweep.links.core_why}")
    elif parent is not None:
        lines.append(f"  #   parent {ids.get(parent[0], '?')}: {safe(parent[1])}")
    else:
        why = sweep.links.no_parent.get(key, "no switch was found")
        lines.append(f"  #   no parent proposed: {why}")
    lines += [
        f"  - id: {ids[key]}",
        f"    kind: {chosen.kind}",
        f"    profile: {chosen.profile}",
        f"    address: {f.address}",
        *_protocol_lines(f, chosen, sweep),
    ]
    if parent is not None and parent[0] in ids:
        lines.append(f"    parent: {ids[parent[0]]}")
    if key == sweep.links.core:
        lines.append("    role: core")
    return lines


def _protocol_lines(f: Found, chosen: Chosen, sweep: Sweep) -> list[str]:
    """The device's port and its protocol section(s), as its profile reads it."""
    isapi, ami = sweep.isapi, sweep.ami
    if chosen.protocols[0] == "isapi" and isapi is not None:
        return [f"    port: {isapi.port}", f"    isapi: {_flow(isapi.site_section())}"]
    if chosen.protocols[0] == "ami" and ami is not None:
        return [f"    port: {ami.port}", f"    ami: {_flow(ami.site_section())}"]
    if f.credential is None:
        return [f"    port: {f.port}"]
    return [f"    port: {f.port}", f"    snmp: {_flow(f.credential.site_section)}"]


def _flow(section: dict[str, object]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in section.items()) + "}"


def _scalar(value: object) -> str:
    text = str(value)
    return text if re.fullmatch(r"[A-Za-z0-9_./-]+", text) and text[0].isalnum() else quoted(text)


def _unclassified(found: Sequence[Found], classes: dict[Key, Chosen | Unclassified]) -> list[str]:
    if not found:
        return []
    lines = ["", "# Answered SNMP but not recognised: not put in as devices (add them by hand,"]
    lines.append("# or write a profile with match: rules for them, docs/profiles.md):")
    for f in found:
        reason = classes.get(key_of(f))
        why = reason.reason if isinstance(reason, Unclassified) else "not classified"
        lines += [
            f"#   {f.address}:{f.port} sysName {quoted(safe(f.identity.name))}: {why}",
            f"#     sysObjectID {f.identity.object_id}",
            f"#     sysDescr {quoted(safe(f.identity.descr))}",
        ]
    return lines


def _modbus(answers: Sequence[ModbusAnswer]) -> list[str]:
    if not answers:
        return []
    return [
        "",
        "# Answered over Modbus TCP (a Modbus server does not say what it is: not put in as",
        "# devices). An intrusion alarm panel's Modbus bridge is added with profile",
        "# alarm-panel-modbus, its unit and register map (docs/alarm-panel-modbus.md):",
        *(f"#   {a.address}:{a.port}: {safe(a.what)}" for a in answers),
    ]


def _failed(failed: Sequence[Failed], links: Links) -> list[str]:
    lines: list[str] = []
    broken = [f for f in failed if not f.silent]
    if broken:
        lines += ["", "# Answered, but not with a usable SNMP answer:"]
        lines += [f"#   {f.address}:{f.port}: {safe(f.reason)}" for f in broken]
    silent = [f for f in failed if f.silent]
    if silent:
        lines += ["", f"# No SNMP answer from {len(silent)} address(es) (timeouts):"]
        lines += [f"#   {span}" for span in _spans(silent)]
    if links.outside:
        lines += ["", "# Seen by the switches but not probed (outside the ranges, or silent):"]
        lines += [f"#   {safe(text)}" for text in links.outside]
    return lines


def _spans(failed: Sequence[Failed]) -> list[str]:
    """Consecutive addresses of one port as ``first-last`` spans."""
    by_port: dict[int, list[int]] = {}
    texts: list[str] = []
    for f in failed:
        try:
            by_port.setdefault(f.port, []).append(int(ipaddress.IPv4Address(f.address)))
        except ValueError:
            texts.append(f"{f.address} port {f.port}")
    for port, numbers in sorted(by_port.items()):
        numbers.sort()
        start = prev = numbers[0]
        for n in [*numbers[1:], None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            first, last = ipaddress.IPv4Address(start), ipaddress.IPv4Address(prev)
            span = f"{first}" if start == prev else f"{first}-{last}"
            texts.append(f"{span} port {port}")
            if n is not None:
                start = prev = n
    return texts
