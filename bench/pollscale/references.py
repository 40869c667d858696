"""The reference pollers of the benchmark, polling the same fleet: net-snmp's C tools
and Prometheus' Go snmp_exporter (Debian's prometheus-snmp-exporter), when installed.

Their CPU is measured on their own processes: the rusage of the waited-for children
for the C tools, /proc/PID/stat of the exporter.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.pollscale.fleet import GET_OIDS, IF_COLUMNS, MAX_REPETITIONS
from tests.realservers import free_port, tcp_open, wait_until

GO_EXPORTER = "prometheus-snmp-exporter"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def netsnmp_tools(ports: list[int], what: str, rounds: int) -> dict[str, float]:
    """snmpget (10 OIDs) or snmpbulkwalk (one process per column), one device each."""
    base = ["-v2c", "-c", "public", "-On", "-Oq", "-t", "5", "-r", "1"]
    jobs: list[list[str]] = []
    for port in ports:
        agent = f"127.0.0.1:{port}"
        if what == "get":
            jobs.append(["snmpget", *base, agent, *GET_OIDS])
        else:
            jobs += [
                ["snmpbulkwalk", *base, f"-Cr{MAX_REPETITIONS}", agent, col] for col in IF_COLUMNS
            ]

    def run(cmd: list[str]) -> int:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=30)
        return len(out.stdout.splitlines())

    cpu0, wall0 = _children_cpu(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        values = sum(sum(pool.map(run, jobs)) for _ in range(rounds))
    return {
        "cpu_s": _children_cpu() - cpu0,
        "wall_s": time.perf_counter() - wall0,
        "values": values,
    }


def _exporter_config() -> str:
    gets = "".join(f"  - {oid}\n" for oid in GET_OIDS)
    get_metrics = "".join(
        f"  - name: get_{i}\n    oid: {oid[:-2]}\n"
        f"    type: {'DisplayString' if i < 2 else 'gauge'}\n"
        for i, oid in enumerate(GET_OIDS)
    )
    walks = "".join(f"  - {col}\n" for col in IF_COLUMNS)
    walk_metrics = "".join(
        f"  - name: col_{col.rsplit('.', 1)[1]}\n    oid: {col}\n"
        f"    type: {'DisplayString' if col.endswith('.2') else 'gauge'}\n"
        "    indexes:\n    - labelname: ifIndex\n      type: gauge\n"
        for col in IF_COLUMNS
    )
    common = (
        f"  version: 2\n  auth:\n    community: public\n  timeout: 5s\n  retries: 1\n"
        f"  max_repetitions: {MAX_REPETITIONS}\n"
    )
    return (
        f"get10:\n{common}  get:\n{gets}  metrics:\n{get_metrics}"
        f"ifwalk:\n{common}  walk:\n{walks}  metrics:\n{walk_metrics}"
    )


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def go_exporter(
    ports: list[int], what: str, rounds: int, paced_seconds: float = 0.0
) -> dict[str, float] | None:
    """snmp_exporter scraped for every device at once; None if it is not installed.

    With ``paced_seconds``, each device is scraped once a second instead, start
    times spread over the second, for that long.
    """
    binary = shutil.which(GO_EXPORTER)
    if binary is None:
        return None
    workdir = Path(tempfile.mkdtemp(prefix="lvgw-exporter-"))
    config = workdir / "snmp.yml"
    config.write_text(_exporter_config())
    port = free_port()
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
         "--log.level=error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    module = "get10" if what == "get" else "ifwalk"

    def scrape(device: int) -> int:
        url = f"http://127.0.0.1:{port}/snmp?module={module}&target=127.0.0.1:{device}"
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read().decode()
        return sum(1 for line in body.splitlines() if line.startswith(("get_", "col_")))

    def paced(i: int, start: float) -> int:
        total, due = 0, start + i / len(ports)
        while due < start + paced_seconds:
            time.sleep(max(0.0, due - time.perf_counter()))
            total += scrape(ports[i])
            due += 1.0
        return total

    try:
        wait_until(lambda: tcp_open("127.0.0.1", port), 10, "snmp_exporter")
        with ThreadPoolExecutor(max_workers=len(ports)) as pool:
            warm = sum(pool.map(scrape, ports))
            cpu0, wall0 = _proc_cpu(proc.pid), time.perf_counter()
            if paced_seconds:
                values = sum(pool.map(lambda i: paced(i, wall0 + 0.05), range(len(ports))))
            else:
                values = sum(sum(pool.map(scrape, ports)) for _ in range(rounds))
            cpu, wall = _proc_cpu(proc.pid) - cpu0, time.perf_counter() - wall0
        rss = _rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    assert warm > 0, "snmp_exporter returned no values"
    return {"cpu_s": cpu, "wall_s": wall, "values": values, "rss_mib": rss}


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _build_c_poller(workdir: Path) -> Path | None:
    """Compile netsnmp_async.c against libsnmp-dev; None when it is not installed."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or not Path("/usr/include/net-snmp/net-snmp-config.h").exists():
        return None
    binary = workdir / "netsnmp_async"
    source = Path(__file__).with_name("netsnmp_async.c")
    subprocess.run([compiler, "-O2", "-o", str(binary), str(source), "-lnetsnmp"], check=True)
    return binary


def netsnmp_async(ports: list[int], what: str, rounds: int) -> dict[str, float] | None:
    """net-snmp's C asynchronous API, every device at once; None without libsnmp-dev."""
    workdir = Path(tempfile.mkdtemp(prefix="lvgw-netsnmp-"))
    try:
        binary = _build_c_poller(workdir)
        if binary is None:
            return None
        env = {
            **os.environ,
            "MIBS": "",
            "MIBDIRS": "/nonexistent",
            "SNMP_PERSISTENT_DIR": str(workdir),
        }
        out = subprocess.run(
            [str(binary), what, str(rounds), str(MAX_REPETITIONS), *map(str, ports)],
            capture_output=True, text=True, check=True, env=env, timeout=300,
        )  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    cpu, values, wall = out.stdout.split()
    return {"cpu_s": float(cpu), "values": int(values), "wall_s": float(wall)}
