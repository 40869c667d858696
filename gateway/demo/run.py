"""The demo: real mosquitto, a real SNMP agent as the core switch, `lvgw run`, tickets.

Scripted mode powers the core switch off and on again in a loop, so a newcomer
sees a level-1 ticket open and resolve without typing anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from gateway import desk
from gateway.demo.processes import Mosquitto, Snmpd

SITE_TEMPLATE = """\
site:
  id: demo-site
  name: Demo office
  customer:
    {{name: Demo Customer Ltd., contact: Li Wei, phone: "+86 21 5555 0100", address: 1 Demo Road}}
  contract: {{type: annual, ends: 2027-06-30}}
  zone: urban
uplink:
  mqtt: {{host: 127.0.0.1, port: {broker_port}}}
agent:
  state_dir: {state_dir}
devices:
  - id: sw-core
    name: Core switch
    kind: switch
    profile: switch-generic
    address: 127.0.0.1
    port: {snmp_port}
    snmp: {{version: 2c, community: public, timeout: 500ms, retries: 0}}
    interval: 2s
    role: core
"""


def say(text: str) -> None:
    print(f"demo: {text}", flush=True)


async def _script(switch: Snmpd) -> None:
    while True:
        await asyncio.sleep(12)
        say("powering OFF the core switch (expect a level-1 ticket within ~3 polls)")
        switch.kill()
        await asyncio.sleep(20)
        say("powering the core switch back ON (expect the ticket to resolve)")
        await asyncio.to_thread(switch.start)


async def _demo(workdir: Path, scripted: bool) -> None:
    broker = Mosquitto(workdir / "mosquitto")
    switch = Snmpd(workdir / "sw-core")
    await asyncio.to_thread(broker.start)
    await asyncio.to_thread(switch.start)
    site = workdir / "site.yaml"
    site.write_text(
        SITE_TEMPLATE.format(
            broker_port=broker.port, snmp_port=switch.port, state_dir=workdir / "state"
        )
    )
    say(f"broker mosquitto on 127.0.0.1:{broker.port}; core switch (net-snmp) on udp {switch.port}")
    say(f"site file {site}; gateway log {workdir / 'gateway.log'}")
    with (workdir / "gateway.log").open("wb") as log:
        gateway = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "run", "-c", str(site),
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    say("gateway started; tickets appear below as the service center sees them (Ctrl-C ends)")
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(desk.watch("127.0.0.1", broker.port, "demo-site", sys.stdout))
            if scripted:
                group.create_task(_script(switch))
    finally:
        with contextlib.suppress(ProcessLookupError):
            gateway.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gateway.wait(), 10)
        switch.stop()
        broker.stop()


def run_demo(scripted: bool = True) -> int:
    with tempfile.TemporaryDirectory(prefix="lvgw-demo-") as tmp:
        try:
            asyncio.run(_demo(Path(tmp), scripted))
        except KeyboardInterrupt:
            say("stopped")
    return 0
