"""A zh-CN site on real parts: snmpd is the core switch, mosquitto the broker, `lvgw run`
the gateway. Its tickets carry Chinese titles and level meanings; every other field is
the same code or time as an English site's, and the event is valid by the schema."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.e2e.conftest import ServiceCenter, validate
from tests.e2e.core_switch import core_switch_site
from tests.e2e.lvgw import lvgw_run
from tests.realservers import Mosquitto, Snmpd

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
