"""What the poll side keeps per series, measured with tracemalloc.

Switches of the generic profile (``--ports`` interfaces each, with sensors and PoE
ports) are read by their SNMP readers from an in-process agent, polled twice (the
second poll gives the counters' rates), their results judged by the rule engine and
kept by the status snapshot's device views, as the agent does. Reported, per series
(one reading of a poll): the bytes the readers keep between polls (placement of
table cells, counters' last values), the rules' state and the snapshot's views, and
what one poll's readings take while in flight.

    .venv/bin/python bench/poll_memory.py [--series 20000] [--ports 24]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.snmp.fake import FakeSnmpClient
from gateway.config import load_config
from gateway.config.load import LoadedConfig
from gateway.poller.result import PollResult
from gateway.protocols.snmp.driver import SnmpShared
from gateway.protocols.snmp.reader import SnmpPointReader
from gateway.rules.engine import RuleEngine
from gateway.snapshot import DeviceView, meant_columns

HEAD = """\
site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}
uplink: {mqtt: {host: 127.0.0.1}}
devices:
"""
SYSTEM = {
    "1.3.6.1.2.1.1.1.0": b"Generic switch, firmware 1.2.3",
    "1.3.6.1.2.1.1.2.0": "1.3.6.1.4.1.9.1.1",
    "1.3.6.1.2.1.1.3.0": 123456,
    "1.3.6.1.2.1.1.5.0": b"sw",
    "1.3.6.1.2.1.25.1.2.0": bytes([7, 234, 12, 6, 10, 0, 0, 0]),
}


def agent(ports: int, step: int) -> dict[str, int | bytes | str]:
    """An SNMP agent's OIDs: the system group, the interfaces, sensors and PoE ports;
    counters moved on by ``step``."""
    values: dict[str, int | bytes | str] = dict(SYSTEM)
    for port in range(1, ports + 1):
        column = "1.3.6.1.2.1.2.2.1"
        x_column = "1.3.6.1.2.1.31.1.1.1"
        values |= {
            f"{column}.2.{port}": f"GigabitEthernet0/{port}".encode(),
            f"{column}.3.{port}": 6,
            f"{column}.7.{port}": 1,
            f"{column}.8.{port}": 1 if port % 3 else 2,
            f"{column}.14.{port}": 10 * step,
            f"{column}.20.{port}": 3 * step,
            f"{x_column}.1.{port}": f"Gi0/{port}".encode(),
            f"{x_column}.6.{port}": 10_000_000 * step + port,
            f"{x_column}.10.{port}": 7_000_000 * step + port,
            f"{x_column}.15.{port}": 1000,
            f"{x_column}.18.{port}": b"desk" if port % 2 else b"uplink",
            f"1.3.6.1.2.1.105.1.1.1.3.1.{port}": 1,
            f"1.3.6.1.2.1.105.1.1.1.6.1.{port}": 3,
        }
    for sensor in (1, 2, 3):
        values |= {
            f"1.3.6.1.2.1.99.1.1.1.1.{sensor}": 8,
            f"1.3.6.1.2.1.99.1.1.1.2.{sensor}": 9,
            f"1.3.6.1.2.1.99.1.1.1.3.{sensor}": 0,
            f"1.3.6.1.2.1.99.1.1.1.4.{sensor}": 40 + sensor,
            f"1.3.6.1.2.1.99.1.1.1.5.{sensor}": 1,
            f"1.3.6.1.2.1.47.1.1.1.1.7.{sensor}": f"Temperature {sensor}".encode(),
        }
    return values


def site(directory: Path, devices: int) -> LoadedConfig:
    path = directory / "site.yaml"
    path.write_text(
        HEAD
        + "".join(
            f"  - {{id: sw-{n}, kind: switch, profile: switch-generic,"
            f" address: 10.0.{n // 250}.{n % 250 + 1}}}\n"
            for n in range(devices)
        )
    )
    return load_config(path)


async def poll_all(
    client: FakeSnmpClient,
    config: LoadedConfig,
    readers: list[SnmpPointReader],
    ports: int,
    steps: tuple[int, ...] = (1, 2),
) -> list[PollResult]:
    """Every reader polled once per step (counters moved on at each); the last results."""
    results: list[PollResult] = []
    for step in steps:
        values = agent(ports, step)
        for device in config.devices:
            client.agents[(device.address, 161)] = values
        results = [await reader.poll() for reader in readers]
        client.calls.clear()
    return results


def allocated() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def measure(series_wanted: int, ports: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        probe = site(Path(tmp), 1)
        client = FakeSnmpClient()
        shared = SnmpShared(probe, client)
        one = [shared.reader(d, probe.profile_of(d)) for d in probe.devices]
        per_poll = len((await poll_all(client, probe, one, ports))[0].readings)
        config = site(Path(tmp), max(1, series_wanted // per_poll))
    client = FakeSnmpClient()
    shared = SnmpShared(config, client)
    engine = RuleEngine(config)
    tracemalloc.start()
    start = allocated()
    readers = [shared.reader(d, config.profile_of(d)) for d in config.devices]
    built = allocated()
    series = sum(len(r.readings) for r in await poll_all(client, config, readers, ports))
    state = allocated() - built  # the results dropped: what the readers keep
    before = allocated()
    results = await poll_all(client, config, readers, ports, (3,))
    in_flight = allocated() - before
    before = allocated()
    views: dict[str, DeviceView] = {}
    for result in results:
        engine.evaluate(result)
        views[result.device] = view = DeviceView(meant_columns(config, result.device))
        view.update(result)
    results.clear()  # what stays is what the rules and the views keep
    kept = allocated() - before + in_flight
    tracemalloc.stop()
    devices = len(readers)
    print(f"{devices} switches of {ports} ports ({len(agent(ports, 1))} OIDs), {series} series")
    print(f"  readers as built:                  {(built - start) / devices:8.0f} B per device")
    print(f"  readers' state (placement, rates): {state / series:8.1f} B per series")
    print(f"  a poll's readings in flight:       {in_flight / series:8.1f} B per series")
    print(f"  rules' state and snapshot views:   {kept / series:8.1f} B per series")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=20_000)
    parser.add_argument("--ports", type=int, default=24)
    args = parser.parse_args()
    asyncio.run(measure(args.series, args.ports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
