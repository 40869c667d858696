"""``lvgw maintenance``: put a device or the whole site in maintenance, end it, list it.

Works on the maintenance file in the agent's state directory; a running agent picks
a change up at its next tick. Exit codes: 0 ok, 1 the file cannot be read or
written, 2 bad usage, a bad site file, or a refused request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt

from gateway.config import ConfigError, LoadedConfig, load_config
from gateway.correlate.errors import MaintenanceError, MaintenanceStoreError
from gateway.correlate.maintenance import MaintenanceStore, MaintenanceWindow, end_time
from gateway.remote import NoReply, send_command
from gateway.signing import load_key

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def add_maintenance_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``maintenance set|clear|list`` on the ``lvgw`` command line."""
    top = subparsers.add_parser(
        "maintenance",
        help="put a device or the site in maintenance (no new tickets), end it, list it",
        description="While a device (or the whole site) is in maintenance, its new faults"
        " open no tickets; when maintenance ends, faults still active do.",
    )
    actions = top.add_subparsers(dest="maintenance_action", required=True, metavar="ACTION")

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument("-c", "--config", type=Path, required=True, help="the site file (YAML)")
        p.add_argument(
            "--broker",
            metavar="HOST:PORT",
            help="send the command to the running gateway through this broker"
            " (cmd/maintenance) instead of changing the state directory",
        )
        p.add_argument(
            "--key-file",
            type=Path,
            metavar="FILE",
            help="with --broker: sign the command with this key (default: the site"
            " file's uplink.command_key_file)",
        )

    put = actions.add_parser("set", help="start (or change) maintenance of a device or the site")
    with_config(put)
    put.add_argument("target", metavar="DEVICE|site", help="a device id, or 'site'")
    end = put.add_mutually_exclusive_group(required=True)
    end.add_argument("--for", dest="span", metavar="DURATION", help="how long: 90m, 2h, 1d")
    end.add_argument(
        "--until", metavar="TIME", help="the end, with a time zone: 2026-01-05T18:00:00+08:00"
    )
    put.add_argument("--by", required=True, help="who sets it (shown on events and in logs)")
    put.add_argument("--reason", default="", help="why (a visit, a firmware update...)")
    put.set_defaults(func=cmd_maintenance_set)

    end_now = actions.add_parser("clear", help="end maintenance of a device or the site now")
    with_config(end_now)
    end_now.add_argument("target", metavar="DEVICE|site", help="a device id, or 'site'")
    end_now.set_defaults(func=cmd_maintenance_clear)

    show = actions.add_parser("list", help="the maintenance windows that have not ended")
    with_config(show)
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(func=cmd_maintenance_list)


def _config(args: argparse.Namespace) -> LoadedConfig | None:
    """The site file, or None (problems printed) when it is bad."""
    try:
        return load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None


def _run(args: argparse.Namespace, action: str) -> int:
    now = datetime.now(UTC)
    config = _config(args)
    if config is None:
        return EXIT_USAGE
    if args.broker:
        return _run_remote(args, action, config)
    try:
        store = MaintenanceStore.for_site(config)
        if action == "set":
            until = end_time(now, args.until, args.span)
            window = store.set_maintenance(args.target, until, args.by, args.reason, now)
            print(f"{_subject(window)} in maintenance until {_when(window, now)}")
        elif action == "clear":
            window = store.clear_maintenance(args.target, now)
            print(f"{_subject(window)}: maintenance ended (it was set by {window.by})")
        else:
            _print_windows(store.maintenance(now), now, args.json)
    except MaintenanceError as exc:
        print(f"lvgw maintenance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MaintenanceStoreError as exc:
        print(f"lvgw maintenance: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _run_remote(args: argparse.Namespace, action: str, config: LoadedConfig) -> int:
    """The same request as ``cmd/maintenance`` to the running gateway, signed."""
    body: dict[str, Any] = {"action": action}
    if action in ("set", "clear"):
        body["target"] = args.target
    if action == "set":
        body.update({"by": args.by, "reason": args.reason})
        body.update({"for": args.span} if args.span else {"until": args.until})
    host, _, port = args.broker.rpartition(":")
    key_file = args.key_file or config.site_file.uplink.command_key_file
    try:
        key = load_key(key_file) if key_file else None
        reply = asyncio.run(
            send_command(host or "127.0.0.1", int(port), config.site_file.site.id,
                         "maintenance", body, key)
        )  # fmt: skip
    except (OSError, ValueError, aiomqtt.MqttError, NoReply) as exc:
        print(f"lvgw maintenance: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if not reply.get("ok"):
        print(f"lvgw maintenance: {reply.get('error')}", file=sys.stderr)
        return EXIT_USAGE
    now = datetime.now(UTC)
    if action == "set":
        window = MaintenanceWindow.from_json(reply["window"])
        print(f"{_subject(window)} in maintenance until {_when(window, now)}")
    elif action == "clear":
        window = MaintenanceWindow.from_json(reply["ended"])
        print(f"{_subject(window)}: maintenance ended (it was set by {window.by})")
    else:
        windows = [MaintenanceWindow.from_json(w) for w in reply.get("windows", [])]
        _print_windows(windows, now, args.json)
    return EXIT_OK


def cmd_maintenance_set(args: argparse.Namespace) -> int:
    return _run(args, "set")


def cmd_maintenance_clear(args: argparse.Namespace) -> int:
    return _run(args, "clear")


def cmd_maintenance_list(args: argparse.Namespace) -> int:
    return _run(args, "list")


def _subject(window: MaintenanceWindow) -> str:
    return "the site" if window.target == "site" else window.target


def _when(window: MaintenanceWindow, now: datetime) -> str:
    left = _minutes_left(window, now)
    reason = f": {window.reason}" if window.reason else ""
    return (
        f"{window.to_json()['until']} (in {left // 60} h {left % 60:02d} min),"
        f" set by {window.by}{reason}"
    )


def _print_windows(windows: list[MaintenanceWindow], now: datetime, as_json: bool) -> None:
    if as_json:
        print(json.dumps([w.to_json() for w in windows], indent=2))
        return
    if not windows:
        print("nothing is in maintenance")
        return
    rows = [("TARGET", "UNTIL", "LEFT", "BY", "REASON")]
    for w in windows:
        left = _minutes_left(w, now)
        rows.append(
            (w.target, w.to_json()["until"], f"{left // 60}h{left % 60:02d}m", w.by, w.reason)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for *cells, reason in rows:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "  " + reason)


def _minutes_left(window: MaintenanceWindow, now: datetime) -> int:
    return round((window.until - now).total_seconds() / 60)
