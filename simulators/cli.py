"""``lvgw-sim``: serve a simulated fleet, and drive it through its control endpoint.

    lvgw-sim run --fleet FLEET.yaml [--write-config SITE.yaml] [--scenario S.yaml]
                 [--control HOST:PORT] [--mqtt HOST:PORT]
    lvgw-sim check FLEET.yaml [--scenario S.yaml]
    lvgw-sim list [--json] [--faults]
    lvgw-sim inject DEVICE FAULT [--set KEY=VALUE ...]
    lvgw-sim clear DEVICE [FAULT] [--set KEY=VALUE ...]

Exit codes: 0 ok, 1 runtime failure (a port taken, the endpoint unreachable),
2 bad usage or a bad fleet/scenario file (`FILE:LINE: message`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulators.control.client import ControlClient, control_address
from simulators.endpoints import check_endpoint, split_endpoint
from simulators.errors import (
    ConfigError,
    ControlError,
    FaultError,
    ServeError,
    SimulatorError,
    UnknownDeviceError,
)

if TYPE_CHECKING:
    from simulators.fleet import Fleet
    from simulators.runtime import FleetRuntime
    from simulators.scenario import Scenario

log = logging.getLogger("simulators")


class UsageError(SimulatorError):
    """Bad command-line usage (exit 2)."""


def _endpoint(value: str) -> str:
    try:
        return check_endpoint(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lvgw-sim", description="Simulated switches, NVRs, PBXs, UPSes and alarm panels."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="serve every device of a fleet until SIGINT/SIGTERM")
    run.add_argument("--fleet", required=True, type=Path, help="fleet file (YAML)")
    run.add_argument("--write-config", type=Path, metavar="SITE.yaml",
                     help="write a gateway site file pointing at the fleet")  # fmt: skip
    run.add_argument("--scenario", type=Path, help="play a scenario file (timeline of faults)")
    run.add_argument("--control", type=_endpoint, metavar="HOST:PORT",
                     help="control endpoint (default: the fleet's, else 127.0.0.1:8700; "
                     "port 0 picks a free one)")  # fmt: skip
    run.add_argument("--mqtt", type=_endpoint, default="127.0.0.1:1883", metavar="HOST:PORT",
                     help="MQTT broker named in the written site file")  # fmt: skip
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])

    check = sub.add_parser("check", help="validate a fleet (and scenario) file, serve nothing")
    check.add_argument("fleet", type=Path)
    check.add_argument("--scenario", type=Path)

    def client(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--control", type=_endpoint, metavar="HOST:PORT",
                         help="control endpoint (default: $LVGW_SIM_CONTROL, else "
                         "127.0.0.1:8700)")  # fmt: skip
        return cmd

    listing = client("list", "list the devices of a running fleet and their faults")
    listing.add_argument("--json", action="store_true", help="print the raw JSON")
    listing.add_argument("--faults", action="store_true", help="list the faults of each kind")
    inject = client("inject", "inject a fault into a device")
    inject.add_argument("device")
    inject.add_argument("fault")
    inject.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    clear = client("clear", "clear a device's faults (all, or those named FAULT)")
    clear.add_argument("device")
    clear.add_argument("fault", nargs="?")
    clear.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="clear only the fault with these parameters")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on bad usage
    try:
        if args.command == "run":
            logging.basicConfig(
                level=args.log_level, stream=sys.stderr,
                format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            )  # fmt: skip
            return asyncio.run(_run(args))
        if args.command == "check":
            return _check(args)
        return _client_command(args)
    except (ConfigError, UsageError, FaultError, UnknownDeviceError) as exc:
        print(f"lvgw-sim: {exc}" if not isinstance(exc, ConfigError) else exc, file=sys.stderr)
        return 2
    except (ServeError, ControlError) as exc:
        print(f"lvgw-sim: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


# The serving side (pysnmp, pymodbus) is imported only by the commands that serve:
# the client commands then start in a fraction of the time.


def _check(args: argparse.Namespace) -> int:
    from simulators.fleet import load_fleet
    from simulators.runtime import FleetRuntime
    from simulators.scenario import load_scenario

    fleet = load_fleet(args.fleet)
    runtime = FleetRuntime(fleet)
    if args.scenario is not None:
        load_scenario(args.scenario, runtime.models)
    print(f"{args.fleet}: ok, {len(fleet.devices)} devices")
    return 0


async def _run(args: argparse.Namespace) -> int:
    from simulators.control.server import ControlServer
    from simulators.fleet import load_fleet
    from simulators.runtime import FleetRuntime
    from simulators.scenario import load_scenario
    from simulators.siteconfig import write_site_file

    fleet = load_fleet(args.fleet)
    runtime = FleetRuntime(fleet)
    scenario = load_scenario(args.scenario, runtime.models) if args.scenario else None
    host, port = split_endpoint(args.control) if args.control else fleet.control
    await runtime.start()
    control = ControlServer(runtime, host, port)
    try:
        bound = await control.start()
        if args.write_config is not None:
            write_site_file(args.write_config, fleet, split_endpoint(args.mqtt))
        _announce(fleet, bound, args.write_config)
        await _serve_until_signal(runtime, scenario)
    finally:
        await control.stop()
        await runtime.stop()
    return 0


def _announce(fleet: Fleet, control: tuple[str, int], site_file: Path | None) -> None:
    # The first line is the readiness signal scripts and tests wait for.
    print(
        f"lvgw-sim: control http://{control[0]}:{control[1]}/ serving "
        f"{len(fleet.devices)} devices of {fleet.path}",
        flush=True,
    )
    for device in fleet.devices:
        served = " ".join(f"{name} {where}" for name, where in device.protocols)
        print(f"  {device.id:<20} {device.kind:<12} {served}")
    if site_file is not None:
        print(f"lvgw-sim: wrote gateway site file {site_file}")
    sys.stdout.flush()


async def _serve_until_signal(runtime: FleetRuntime, scenario: Scenario | None) -> None:
    from simulators.scenario import play, runtime_applier

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with asyncio.TaskGroup() as group:
            player = None
            if scenario is not None:
                player = group.create_task(play(scenario, runtime_applier(runtime)),
                                           name="scenario")  # fmt: skip
            await stop.wait()
            if player is not None:
                player.cancel()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    log.info("stopping")


def _pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set {item!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _client_command(args: argparse.Namespace) -> int:
    client = ControlClient(control_address(args.control))
    if args.command == "list":
        if args.faults:
            _print_json_or(client.faults(), args.json, _print_faults)
        else:
            _print_json_or(client.devices(), args.json, _print_devices)
        return 0
    if args.command == "inject":
        result = client.inject(args.device, args.fault, _pairs(args.set))
        print(f"{args.device}: injected {_fault_text(result['injected'])}")
        return 0
    result = client.clear(args.device, args.fault, _pairs(args.set))
    cleared = ", ".join(_fault_text(fault) for fault in result["cleared"]) or "nothing to clear"
    print(f"{args.device}: cleared {cleared}")
    return 0


def _fault_text(fault: dict[str, Any]) -> str:
    params = ",".join(f"{key}={value}" for key, value in fault.get("params", {}).items())
    return f"{fault['fault']}({params})" if params else str(fault["fault"])


def _print_json_or(data: Any, as_json: bool, printer: Any) -> None:
    if as_json:
        print(json.dumps(data, indent=1))
    else:
        printer(data)


def _served(device: dict[str, Any]) -> str:
    """``snmp``, or ``snmp,isapi:8080``: the protocols, each further one with its port."""
    served = device.get("protocols") or [{"name": device["protocol"]}]
    first, *others = served
    return ",".join(
        [first["name"], *(f"{p['name']}:{p['endpoint'].rpartition(':')[2]}" for p in others)]
    )


def _print_devices(devices: list[dict[str, Any]]) -> None:
    print(f"{'ID':<20} {'KIND':<12} {'ENDPOINT':<22} {'STATE':<8} {'PROTOCOLS':<18} FAULTS")
    for d in devices:
        state = "up" if d["answering"] else "silent"
        faults = ", ".join(_fault_text(fault) for fault in d["faults"]) or "-"
        served = _served(d)
        print(f"{d['id']:<20} {d['kind']:<12} {d['endpoint']:<22} {state:<8} {served:<18} {faults}")


def _print_faults(catalogue: dict[str, Any]) -> None:
    for kind, faults in catalogue.items():
        print(f"{kind}:")
        for name, info in faults.items():
            params = " ".join(f"{key}=<{text}>" for key, text in info["params"].items())
            print(f"  {name:<22} {params}\n      {info['help']}")
