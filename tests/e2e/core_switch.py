"""The smallest site on real parts: net-snmp's snmpd as its one core switch, mosquitto as
the broker, and `lvgw run` as the gateway, in a subprocess. Tests in English and in
other languages write the same site and differ only in the site's own section; they run
the gateway with `tests.e2e.lvgw.lvgw_run`."""

from __future__ import annotations

from pathlib import Path

from gateway.demo.processes import free_port
from tests.realservers import Mosquitto, Snmpd

INTERVAL = 0.5  # seconds between the switch's polls


def core_switch_site(
    tmp: Path, broker: Mosquitto, agent: Snmpd, site: str, device_name: str | None = None
) -> Path:
    """A site file in ``tmp`` whose ``site:`` section is ``site`` (its lines after the id,
    indented by two) and whose one device, sw-core, is the switch ``agent`` serves."""
    name = "" if device_name is None else f"\n    name: {device_name}"
    path = tmp / "site.yaml"
    path.write_text(
        f"""
site:
  id: site-e2e
{site}
uplink:
  mqtt: {{host: 127.0.0.1, port: {broker.port}}}
agent:
  state_dir: {tmp / "state"}
  status_listen: 127.0.0.1:{free_port()}  # not the default 8780: suites run side by side
devices:
  - id: sw-core{name}
    kind: switch
    profile: switch-generic
    address: 127.0.0.1
    port: {agent.port}
    snmp: {{version: 2c, community: public, timeout: 0.2s, retries: 0}}
    interval: {INTERVAL}s
    role: core
"""
    )
    return path
