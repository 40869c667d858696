"""`lvgw demo`: the simulated site, a local broker, the gateway, a live ticket view, and
the service center's side (`lvgw-center` feeding a local helpdesk, helpdesk.py).

Everything is real on the wire: mosquitto is the service center's broker, the
simulators (`lvgw-sim`) serve SNMP and Modbus on loopback addresses, and the gateway
is `lvgw run` on a site file the simulators write. A fault tour (``tour.yaml``)
injects one fault after another, so a newcomer sees every level of ticket open and
resolve without typing anything; `--interactive` plays no tour.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Coroutine
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from drivers.tasks import stop_task
from gateway import desk
from gateway.demo.helpdesk import Helpdesk, start_center
from gateway.demo.ports import fleet_for_demo, status_listen_for_demo
from gateway.demo.processes import Mosquitto, tcp_open

FLEET = files("simulators") / "fleets" / "demo.yaml"
TOUR = files("gateway.demo") / "tour.yaml"
CONTROL = "127.0.0.1:8700"
POLL_INTERVAL = "5s"  # faster than a site's 30 s, so the demo does not keep people waiting


def say(text: str) -> None:
    print(f"demo: {text}", flush=True)


def site_for_demo(path: Path, broker_port: int, state_dir: Path, status_listen: str) -> None:
    """The simulators' site file, pointed at the demo's broker and state, polled faster."""
    site: dict[str, Any] = yaml.safe_load(path.read_text())
    site["uplink"]["mqtt"].update({"host": "127.0.0.1", "port": broker_port})
    site["agent"] = {"state_dir": str(state_dir), "status_listen": status_listen}
    for device in site["devices"]:
        device["interval"] = POLL_INTERVAL
    path.write_text(yaml.safe_dump(site, sort_keys=False, allow_unicode=True))


# Ports are chosen free, then bound by the simulators a moment later: another demo
# starting at the same time may take one in between. The next attempt sees it taken.
START_ATTEMPTS = 5


async def _start_simulators(
    workdir: Path, scripted: bool
) -> tuple[asyncio.subprocess.Process, Path]:
    for _ in range(START_ATTEMPTS - 1):
        try:
            return await _start_simulators_once(workdir, scripted)
        except PortTakenMeanwhile:
            say("a port was taken while the simulators started: choosing again")
    try:
        return await _start_simulators_once(workdir, scripted)
    except PortTakenMeanwhile as exc:
        raise RuntimeError(str(exc)) from None


class PortTakenMeanwhile(Exception):
    """The simulators could not bind a port that was free when it was chosen."""


async def _start_simulators_once(
    workdir: Path, scripted: bool
) -> tuple[asyncio.subprocess.Process, Path]:
    site = workdir / "site.yaml"
    site.unlink(missing_ok=True)
    control = CONTROL
    host, port = CONTROL.split(":")
    if tcp_open(host, int(port)):
        control = "127.0.0.1:0"  # someone else has 8700: take a free port
    fleet, moved = fleet_for_demo(FLEET, workdir)
    for change in moved:
        say(f"taken by something else, so moved: {change}")
    args = [sys.executable, "-m", "simulators", "run", "--fleet", str(fleet),
            "--write-config", str(site), "--control", control]  # fmt: skip
    if scripted:
        args += ["--scenario", str(TOUR)]
    log = (workdir / "simulators.log").open("wb")
    proc = await asyncio.create_subprocess_exec(*args, stdout=log, stderr=asyncio.subprocess.STDOUT)
    log.close()
    async with asyncio.timeout(60):
        while (
            not site.exists() or "control http://" not in (workdir / "simulators.log").read_text()
        ):
            if proc.returncode is not None:
                text = (workdir / "simulators.log").read_text()
                if "Address already in use" in text:
                    raise PortTakenMeanwhile(text)
                raise RuntimeError(text)
            await asyncio.sleep(0.1)
    text = (workdir / "simulators.log").read_text()
    match = re.search(r"control http://([0-9.]+:\d+)/", text)
    if match:
        say(f"simulated site up (control endpoint {match.group(1)}): try, in another terminal,")
        say(f"  LVGW_SIM_CONTROL={match.group(1)} lvgw-sim inject nvr-1 disk_failed --set disk=2")
    return proc, site


async def _stop(proc: asyncio.subprocess.Process | None) -> None:
    if proc is None or proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 10)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def _until_cancelled(job: Coroutine[Any, Any, None]) -> None:
    """Run ``job`` until it ends or this task is cancelled (Ctrl-C); then cancel ``job``
    again every second until it has ended.

    One cancel is not always enough: Python 3.11's ``asyncio.wait_for``, which aiomqtt
    awaits every acknowledgement with, drops a cancel that arrives together with the
    answer it waits for. The desk acknowledges each ticket as it prints it, so a Ctrl-C
    right after a ticket could be lost and the demo kept running.
    """
    task = asyncio.create_task(job, name="demo-job")
    try:
        await asyncio.wait({task})  # unlike ``await task``, a cancel here stays ours
    finally:
        await stop_task(task)
    if not task.cancelled():
        task.result()  # the job's own error, if it failed


async def _demo(workdir: Path, scripted: bool) -> None:
    broker = Mosquitto(workdir / "mosquitto")
    await asyncio.to_thread(broker.start)
    simulators = gateway = center = None
    helpdesk: Helpdesk | None = None
    try:
        center, helpdesk = await start_center(workdir / "center", broker.port, say)
        simulators, site = await _start_simulators(workdir, scripted)
        status_listen = status_listen_for_demo()
        site_for_demo(site, broker.port, workdir / "state", status_listen)
        say(f"broker: mosquitto on 127.0.0.1:{broker.port}; site file: {site}")
        say(
            "  (a demo on loopback: plain anonymous MQTT, unsigned commands; a real site"
            " uses TLS, a broker user and a command key, docs/security.md)"
        )
        say(f"  lvgw status -c {site}     (the technician's view)")
        with (workdir / "gateway.log").open("wb") as log:
            gateway = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway", "run", "-c", str(site),
                stdout=log, stderr=asyncio.subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        say(f"gateway started (log {workdir / 'gateway.log'})")
        say(f"  status page: http://{status_listen}/   (devices by level, tickets, charts)")
        if scripted:
            say("a fault tour runs: one fault after another, each level in turn")
        say("tickets appear below as the service center sees them, and as the helpdesk gets")
        say("them from lvgw-center (Ctrl-C ends)")
        # The desk acknowledges as a service center would: reminders then stop.
        await _until_cancelled(
            desk.watch("127.0.0.1", broker.port, "+", sys.stdout, ack_as="demo-desk")
        )
    finally:
        await _stop(gateway)
        await _stop(simulators)
        await _stop(center)
        if helpdesk is not None:
            await helpdesk.server.close()
        broker.stop()


def run_demo(scripted: bool = True) -> int:
    with tempfile.TemporaryDirectory(prefix="lvgw-demo-") as tmp:
        try:
            asyncio.run(_demo(Path(tmp), scripted))
        except KeyboardInterrupt:
            say("stopped")
    return 0
