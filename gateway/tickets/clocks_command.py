"""``lvgw clocks``: what a fault at a given moment would be owed, by the site's own rules.

A service center checks a site's clock settings with it before go-live: response,
on-site and loaner deadlines (RFC 3339 UTC, or null) for a level at a time, with the
site's zone, duty hours, time zone and contract. ``--device`` and ``--code`` make it
the deadlines of that fault (a forecast, a notice or the gateway's own ticket gets
no loaner). Exit codes: 0 ok, 2 bad arguments (or a bad site file, in ``gateway.cli``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from gateway.config import LoadedConfig
from gateway.config.rules import fault_codes
from gateway.model import Level
from gateway.tickets.clocks import ServiceClocks
from gateway.tickets.terms import Coverage, Deadlines, deadlines, is_notice_code
from gateway.tickets.wire import rfc3339

EXIT_OK, EXIT_USAGE = 0, 2
GATEWAY = "gateway"  # the pseudo-device of the gateway's own and site-wide tickets
# Codes the gateway files itself, on any site (correlation, proactive maintenance).
GATEWAY_CODES = ("gateway.network_down", "network.segment_down", "pm.due", "contract.expiring")


class ClocksError(Exception):
    """A bad argument: the message says which and why."""


def parse_at(text: str, config: LoadedConfig) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClocksError(
            f"--at {text!r}: not a time; use ISO 8601, e.g. 2026-03-06T23:10+08:00"
        ) from None
    if at.tzinfo is None:  # a wall time at the site
        at = at.replace(tzinfo=config.site_file.site.local_zone)
    return at.astimezone(UTC)


def _known(code: str | None, codes: Iterable[str]) -> bool:
    return code is None or code in codes or code in GATEWAY_CODES or is_notice_code(code)


def _device_kind(config: LoadedConfig, device_id: str | None, code: str | None) -> str:
    """The kind of the device the fault is on; checks the device and the code exist."""
    if device_id is None:
        site_codes = {c for p in config.profiles.values() for c in fault_codes(p.rules)}
        if not _known(code, site_codes):
            raise ClocksError(f"--code {code!r}: no rule of this site raises it")
        return "gateway" if code in GATEWAY_CODES else "switch"
    if device_id == GATEWAY:
        return "gateway"
    try:
        device = config.device(device_id)
    except KeyError:
        ids = ", ".join(d.id for d in config.devices)
        raise ClocksError(f"--device {device_id!r}: no such device (known: {ids})") from None
    codes = fault_codes(config.profile_of(device).rules)
    if not _known(code, codes):
        raise ClocksError(
            f"--code {code!r}: device {device_id} ({device.profile}) has no such rule"
            f" (known: {', '.join(codes)})"
        )
    return device.kind.value


def compute(
    config: LoadedConfig, level: Level, at: datetime, code: str | None, device: str | None
) -> tuple[Deadlines, Coverage]:
    site = config.site_file.site
    kind = _device_kind(config, device, code)
    clocks = ServiceClocks.for_site(site.zone, site.clocks, site.local_zone)
    coverage = Coverage.for_config(config)
    due = deadlines(
        clocks, coverage, level, at, device=device or "", device_kind=kind, code=code or ""
    )
    return due, coverage


def report(config: LoadedConfig, level: Level, at: datetime, args: argparse.Namespace,
           out: TextIO) -> None:  # fmt: skip
    due, coverage = compute(config, level, at, args.code, args.device)
    site = config.site_file.site
    zone = site.local_zone
    data: dict[str, Any] = {
        "site": site.id,
        "timezone": zone.key,
        "level": int(level),
        "at": rfc3339(at),
        "device": args.device,
        "code": args.code,
        "customer_attribute": coverage.attribute(at).value,
        "response_due": rfc3339(due.response_due),
        "onsite_due": rfc3339(due.onsite_due),
        "loaner_due": rfc3339(due.loaner_due),
    }
    if args.json:
        print(json.dumps(data), file=out)
        return
    clocks = ServiceClocks.for_site(site.zone, site.clocks, zone)

    def local(when: datetime | None) -> str:
        if when is None:
            return "null"
        return f"{rfc3339(when)}  ({when.astimezone(zone):%a %Y-%m-%d %H:%M} {zone.key})"

    ends = site.contract.ends
    contract = f"{site.contract.type.value} contract"
    if ends is not None:
        ended = coverage.ended(at)
        contract += f" ended {ends}: served per visit" if ended else f" until {ends}"
    print(f"site {site.id}: {site.zone.value}, {contract}, duty {clocks.duty.describe()}", file=out)
    fault = " ".join(x for x in (args.device, args.code) if x)
    print(f"level {int(level)}{' ' + fault if fault else ''} at {local(at)}", file=out)
    for name in ("response_due", "onsite_due", "loaner_due"):
        print(f"{name:<13} {local(getattr(due, name))}", file=out)


def run(config: LoadedConfig, args: argparse.Namespace, out: TextIO) -> int:
    """``args``: level, at, code, device, json (from the command line)."""
    try:
        at = parse_at(args.at, config)
        report(config, Level(args.level), at, args, out)
    except ClocksError as exc:
        print(f"lvgw clocks: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
