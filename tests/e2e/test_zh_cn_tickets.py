"""A zh-CN site on real parts: snmpd is the core switch (or the simulator an NVR),
mosquitto the broker, `lvgw run` the gateway. Its tickets carry Chinese titles and level
meanings, a state the title names in its Chinese word; every other field is the same
code or time as an English site's, and the event is valid by the schema."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import ServiceCenter, validate
from tests.e2e.core_switch import INTERVAL, core_switch_site
from tests.e2e.lvgw import lvgw_run
from tests.realservers import Mosquitto, Snmpd
from tests.simulators.conftest import SimFleet, free_port_on

SITE = """\
  name: 河畔办公园区 B 栋
  customer: {name: 河畔物业管理有限公司, contact: 李伟, phone: "+86 21 5555 0100"}
  contract: {type: annual, ends: 2027-06-30}
  timezone: Asia/Shanghai
  locale: zh-CN"""


async def test_a_zh_cn_site_s_ticket_has_a_chinese_title_and_level_meaning(
    tmp_path: Path, mosquitto: Mosquitto, snmpd: Snmpd, service_center: ServiceCenter
) -> None:
    config = core_switch_site(tmp_path, mosquitto, snmpd, SITE, device_name="核心交换机")
    gateway = lvgw_run(config)
    try:
        center = service_center
        await center.wait_for(lambda: any(s["state"] == "online" for s in center.status), 10)
        snmpd.kill()
        await center.wait_for(lambda: len(center.tickets) >= 1, 10)
        opened = center.tickets[0]
        validate(opened)
        # The profile's zh-CN title, with the device's name filled in.
        assert opened["title"] == "核心交换机 无法连接"
        assert opened["service"]["needed"] == "核心交换机 无法连接"
        assert opened["level_meaning"].startswith("一级故障：系统瘫痪或服务中断")
        # The rest stays machine-readable: codes, levels, times.
        assert (opened["event"], opened["severity"]) == ("open", 1)
        assert opened["fault"]["code"] == "device.unreachable"
        assert opened["device"]["kind"] == "switch"
        assert opened["site"]["contract"]["type"] == "annual"
        assert opened["service"]["customer_attribute"] == "annual"
        assert opened["occurred_at"].endswith("Z")

        snmpd.start()
        await center.wait_for(lambda: len(center.tickets) >= 2, 10)
        resolved = center.tickets[1]
        validate(resolved)
        assert resolved["event"] == "resolve"
        assert resolved["title"] == "核心交换机 无法连接"
        gateway.send_signal(signal.SIGTERM)
        assert gateway.wait(10) == 0
    finally:
        if gateway.poll() is None:
            gateway.kill()
        gateway.communicate(timeout=10)


NVR_FLEET = """
site: {{id: site-e2e, name: zh-CN recorder, timezone: Asia/Shanghai}}
devices:
  - {{id: nvr, kind: nvr, address: 127.0.0.1, port: {port}, disks: 2, cameras: 4}}
"""


@pytest.fixture
def nvr_fleet(tmp_path: Path) -> Iterator[SimFleet]:
    """One simulated Hikvision NVR over SNMP, and the site file the simulator writes."""
    text = NVR_FLEET.format(port=free_port_on("127.0.0.1"))
    sim = SimFleet(tmp_path, text, ["--write-config", str(tmp_path / "site.yaml")])
    sim.start(timeout=20)
    try:
        yield sim
    finally:
        sim.stop()


def nvr_site_file(sim: SimFleet, broker: Mosquitto, tmp: Path) -> Path:
    """The simulator's site file as a zh-CN site's, polling the NVR every INTERVAL."""
    doc = yaml.safe_load((sim.workdir / "site.yaml").read_text())
    doc["site"]["locale"] = "zh-CN"
    doc["uplink"]["mqtt"] = {"host": broker.host, "port": broker.port}
    doc["agent"] = {"state_dir": str(tmp / "state"), "status_listen": None}
    (nvr,) = doc["devices"]
    nvr.update(name="大堂录像机", interval=f"{INTERVAL}s")
    nvr["snmp"].update(timeout="0.2s", retries=0)
    path = tmp / "site.zh.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


async def test_a_state_in_a_zh_cn_title_is_its_chinese_word(
    tmp_path: Path, mosquitto: Mosquitto, nvr_fleet: SimFleet, service_center: ServiceCenter
) -> None:
    """The profile's title names the disk's state (``{disk.status}``): the ticket says
    异常 (the word the device page shows), not the profile's code ``abnormal``."""
    gateway = lvgw_run(nvr_site_file(nvr_fleet, mosquitto, tmp_path))
    try:
        center = service_center
        await center.wait_for(lambda: any(s["state"] == "online" for s in center.status), 10)
        fault = {"disk": "2", "status": "2"}  # hikDiskStatus 2: abnormal
        await asyncio.to_thread(nvr_fleet.client.inject, "nvr", "disk_failed", fault)
        await center.wait_for(lambda: len(center.tickets) >= 1, 10)
        opened = center.tickets[0]
        validate(opened)
        assert opened["title"] == "大堂录像机 的硬盘 HDD2 故障（异常）"
        assert (opened["event"], opened["fault"]["code"]) == ("open", "disk.failed")
        assert opened["fault"]["instance"] == "2"
        gateway.send_signal(signal.SIGTERM)
        assert gateway.wait(10) == 0
    finally:
        if gateway.poll() is None:
            gateway.kill()
        gateway.communicate(timeout=10)
