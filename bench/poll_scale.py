"""How much CPU and memory lvgw's SNMP polling costs, beside reference pollers.

A fleet of net-snmp snmpd agents listens on many loopback ports (one device per
port). Each client polls it; only the client process's own CPU is counted
(process_time in the Python worker, rusage or /proc for the references):

- flat out: every device at once, GET of 10 scalars / GETBULK walk of 6 ifTable
  columns, CPU-ms per 1,000 values (best of three runs: the machine is shared);
- paced: 200 devices, one 10-OID GET each per second for 10 s, spread over the second;
- RSS after polling 1,000 devices (GET + walk each);
- capacity: 1,000 devices each polled (GET + walk) every 10 s, the rate of 3,000
  devices on a 30 s interval; the CPU share it takes gives the largest N that fits
  a 30 s interval within half a core.

Run: .venv/bin/python bench/poll_scale.py [--devices N] [--rss-devices N]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pollscale import references  # noqa: E402
from bench.pollscale.fleet import Fleet  # noqa: E402

Result = dict[str, float]


def worker(kind: str, mode: str, ports: list[int], **args: object) -> Result:
    out = subprocess.run(
        [sys.executable, "-m", "bench.pollscale.worker", kind, mode,
         ",".join(map(str, ports)), json.dumps(args)],
        capture_output=True, text=True, cwd=ROOT, check=True, timeout=600,
    )  # fmt: skip
    result: Result = json.loads(out.stdout)
    if result["values"] < 0:
        raise RuntimeError(f"{kind} {mode}: some polls failed")
    return result


def best(runs: list[Result | None]) -> Result | None:
    done = [r for r in runs if r is not None]
    return min(done, key=lambda r: r["cpu_s"] / r["values"]) if done else None


def per_1000(result: Result | None) -> str:
    return "n/a" if result is None else f"{result['cpu_s'] * 1e6 / result['values']:.1f}"


def cpu_model() -> str:
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def flat_table(ports: list[int]) -> None:
    def lean(what: str) -> Result:
        return worker("lean", "flat", ports, what=what, rounds=10)

    def pysnmp(what: str) -> Result:
        return worker("pysnmp", "flat", ports, what=what, rounds=2)

    def c_async(what: str) -> Result | None:
        return references.netsnmp_async(ports, what, 10)

    def go(what: str) -> Result | None:
        return references.go_exporter(ports, what, 3)

    def tools(what: str) -> Result | None:
        return references.netsnmp_tools(ports[:50], what, 1)

    print(f"\nflat out, {len(ports)} devices: client CPU-ms per 1,000 values")
    print("| client | GET 10 OIDs | walk 6 columns |\n| --- | ---: | ---: |")
    for name, run, repeats in [
        ("lvgw lean (v1/v2c)", lean, 3),
        ("pysnmp 7 hlapi (lvgw's v3 path)", pysnmp, 1),
        ("net-snmp C async API", c_async, 3),
        ("Go snmp_exporter (Debian)", go, 3),
        ("net-snmp snmpget/snmpbulkwalk processes", tools, 1),
    ]:
        get = best([run("get") for _ in range(repeats)])
        walk = best([run("walk") for _ in range(repeats)])
        print(f"| {name} | {per_1000(get)} | {per_1000(walk)} |")


def paced_table(ports: list[int]) -> None:
    print(f"\npaced: {len(ports)} devices, one 10-OID GET each per second, 10 s")
    print("| client | CPU-ms per 1,000 values | share of one core |\n| --- | ---: | ---: |")
    for name, paced in [
        ("lvgw lean", worker("lean", "paced", ports, what="get", interval=1.0, seconds=10.0)),
        (
            "pysnmp 7 hlapi",
            worker("pysnmp", "paced", ports, what="get", interval=1.0, seconds=10.0),
        ),
        ("Go snmp_exporter", references.go_exporter(ports, "get", 0, paced_seconds=10.0)),
    ]:
        if paced is not None:
            share = 100 * paced["cpu_s"] / paced["wall_s"]
            values = int(paced["values"])
            print(f"| {name} | {per_1000(paced)} | {share:.1f} % ({values} values) |")


def memory_and_capacity(ports: list[int]) -> None:
    rss = worker("lean", "flat", ports, what="poll", rounds=1)
    print(
        f"\nRSS of the lean client after polling {len(ports)} devices (GET + walk each): "
        f"{rss['rss_mib']:.1f} MiB (peak {rss['maxrss_mib']:.1f} MiB)"
    )
    interval = 30.0 * len(ports) / 3000
    cap = worker("lean", "paced", ports, what="poll", interval=interval, seconds=interval)
    share = cap["cpu_s"] / cap["wall_s"]
    print(
        f"capacity: {len(ports)} devices polled (GET + walk) every {interval:g} s, the rate "
        f"of 3,000 devices per 30 s, took {100 * share:.1f} % of one core: about "
        f"{int(3000 * 0.5 / share):,} devices fit a 30 s interval in half a core"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=200, help="devices polled flat out")
    parser.add_argument("--rss-devices", type=int, default=1000)
    opts = parser.parse_args()
    cores = subprocess.getoutput("nproc")
    print(f"machine: {cpu_model()}, {cores} cores; Python {platform.python_version()}")
    fleet = Fleet(max(opts.devices, opts.rss_devices, 200)).start()
    try:
        flat_table(fleet.ports[: opts.devices])
        paced_table(fleet.ports[:200])
        memory_and_capacity(fleet.ports[: opts.rss_devices])
    finally:
        fleet.stop()


if __name__ == "__main__":
    main()
