"""The `lvgw` command line. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from gateway import __version__, logs, sdnotify
from gateway.config import LoadedConfig, load_config
from gateway.config.errors import check_config, load_or_report
from gateway.config.site import DeviceKind
from gateway.mibs import command as mib_commands
from gateway.signing import load_key

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("lvgw")


def _load(path: Path) -> LoadedConfig | None:
    return load_or_report(load_config, path)


def cmd_check_config(args: argparse.Namespace) -> int:
    return EXIT_OK if check_config(load_config, args.config) else EXIT_USAGE


async def _run_agent(config: LoadedConfig) -> None:
    """The agent until SIGTERM/SIGINT; again on the site file now in place each time a
    new one came over cmd/config (gateway/reconfigure.py)."""
    from gateway.agent import Agent

    stop = asyncio.Event()
    started = asyncio.Event()  # the first agent started: systemd's READY=1
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    agents: list[Agent] = []
    try:
        async with sdnotify.notifying(started, stop, lambda: agents[-1].status_line()):
            while True:
                config = _settle_config_swap(config)
                previous = agents[-1].command_verifier if agents else None
                agent = Agent(config, previous)
                agent.started = started
                agents[:] = [agent]
                await agent.run(stop)
                if stop.is_set() or not agent.reload_requested:
                    return
                config = _reload(config)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def _settle_config_swap(config: LoadedConfig) -> LoadedConfig:
    """A new site file whose time to reach the broker ran out while the gateway was not
    running (a crash, a restart): put the previous one back before starting."""
    from gateway.config import swap

    state_dir = config.site_file.agent.state_dir
    pending = swap.read_pending(state_dir)
    if pending is None or not swap.overdue(pending):
        return config
    reason = (
        f"the gateway did not reach the broker {pending.broker} with the new site file"
        f" by {pending.deadline}: the previous site file is back"
    )
    log.error("%s", reason)
    swap.roll_back(config.path, state_dir, pending, reason)
    return _reload(config)


def _reload(config: LoadedConfig) -> LoadedConfig:
    """The site file now in place (checked before it was put there)."""
    log.info("loading the site file again: %s", config.path)
    return load_config(config.path)


def cmd_run(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return EXIT_USAGE
    limits = config.site_file.limits
    logs.setup(args.log_level, limits.log_line_chars, limits.log_lines_per_minute)
    for warning in config.warnings:
        log.warning("%s", warning)
    try:
        asyncio.run(_run_agent(config))
    except Exception:
        log.exception("agent failed")
        return EXIT_FAILURE
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from gateway.views.status import show

    config = _load(args.config)
    if config is None:
        return EXIT_USAGE
    return show(config, sys.stdout, args.json)


def cmd_report(args: argparse.Namespace) -> int:
    from gateway.views.report.command import run

    config = _load(args.config)
    if config is None:
        return EXIT_USAGE
    return run(config, args.device, args.format, args.out, args.days)


def cmd_clocks(args: argparse.Namespace) -> int:
    from gateway.tickets.clocks_command import run

    config = _load(args.config)
    if config is None:
        return EXIT_USAGE
    return run(config, args, sys.stdout)


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo

    return run_demo(scripted=not args.interactive)


def cmd_desk(args: argparse.Namespace) -> int:
    from gateway import desk

    host, _, port = args.broker.rpartition(":")
    try:
        key = load_key(args.key_file) if args.key_file else None
        watching = desk.watch(
            host or "127.0.0.1", int(port), args.site, sys.stdout, ack_as=args.ack_as, key=key
        )
        asyncio.run(watching)
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as exc:
        print(f"lvgw desk: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="lvgw",
        description="Site gateway for maintained low-voltage systems: polls devices, "
        "classifies faults into the four service levels and opens tickets over MQTT.",
    )
    top.add_argument("--version", action="version", version=f"lvgw {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument("-c", "--config", type=Path, required=True, help="the site file (YAML)")

    run = sub.add_parser("run", help="run the agent until SIGTERM/SIGINT")
    with_config(run)
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check-config", help="validate the site file and its profiles")
    with_config(check)
    check.set_defaults(func=cmd_check_config)

    status = sub.add_parser("status", help="devices, health and open tickets of the site")
    with_config(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)

    report = sub.add_parser("report", help="the pre-visit report for a technician")
    with_config(report)
    report.add_argument("--device", help="only this device (its id)")
    report.add_argument(
        "--format",
        choices=["md", "html", "json"],
        default="md",
        help="md (default), html or json (the report's data)",
    )
    report.add_argument("--out", type=Path, help="write to this file instead of standard output")
    report.add_argument(
        "--days", type=int, default=30, help="how far back recent tickets and events go (30)"
    )
    report.set_defaults(func=cmd_report)

    clocks = sub.add_parser(
        "clocks",
        help="the deadlines a fault at a given moment would get, by the site's rules",
        description="Response, on-site and loaner deadlines (RFC 3339 UTC, or null) of a"
        " fault of level N at TIME, by the site's zone, duty hours, time zone and contract.",
    )
    with_config(clocks)
    clocks.add_argument(
        "--level", type=int, choices=[1, 2, 3, 4], required=True, help="the fault level, 1-4"
    )
    clocks.add_argument(
        "--at",
        required=True,
        metavar="TIME",
        help="when the fault occurs: 2026-03-06T23:10+08:00 (without an offset: site time)",
    )
    clocks.add_argument("--code", help="a fault code (device.unreachable, forecast.disk_full...)")
    clocks.add_argument("--device", metavar="ID", help="a device id of the site, or gateway")
    clocks.add_argument("--json", action="store_true", help="machine-readable output")
    clocks.set_defaults(func=cmd_clocks)

    demo = sub.add_parser(
        "demo", help="a simulated site, a local broker, the gateway, live tickets"
    )
    demo.add_argument(
        "--interactive", action="store_true", help="no scripted faults: inject your own"
    )
    demo.set_defaults(func=cmd_demo)

    from gateway.correlate.cli import add_maintenance_parser
    from gateway.discover.command import add_parser as add_discover_parser

    add_maintenance_parser(sub)
    add_discover_parser(sub)

    desk = sub.add_parser("desk", help="watch a broker's tickets as the service center sees them")
    desk.add_argument("--broker", default="127.0.0.1:1883", help="HOST:PORT (127.0.0.1:1883)")
    desk.add_argument("--site", default="+", help="a site id, or + for every site")
    desk.add_argument(
        "--ack-as", metavar="NAME", help="acknowledge every open ticket shown, as NAME"
    )
    desk.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="the site's command key (uplink.command_key_file): acknowledgements are signed",
    )
    desk.set_defaults(func=cmd_desk)
    mib_commands.add_commands(sub, [kind.value for kind in DeviceKind])
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
