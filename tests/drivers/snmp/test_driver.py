"""The dispatching driver: v1/v2c on the lean path, v3 through pysnmp, one close."""

from __future__ import annotations

import pytest

from drivers.snmp.base import SnmpError, SnmpTarget
from drivers.snmp.driver import SnmpDriver
from tests.drivers.snmp.test_lean_snmpd import IF_ENTRY, SYS_NAME
from tests.drivers.snmp.test_pysnmp_v3 import v3_target
from tests.realservers import Snmpd

pytestmark = pytest.mark.integration


async def test_routes_by_version_and_closes_both(snmpd: Snmpd) -> None:
    driver = SnmpDriver()
    try:
        v2c = SnmpTarget(snmpd.host, snmpd.port)
        v1 = SnmpTarget(snmpd.host, snmpd.port, version="1")
        assert (await driver.get(v2c, [SYS_NAME]))[0][1] == b"lvgw-test-switch"
        assert await driver.walk(v1, [f"{IF_ENTRY}.2"]) == await driver.walk(v2c, [f"{IF_ENTRY}.2"])
        started_before_v3 = driver.v3_started
        assert not started_before_v3  # no v3 target yet: pysnmp not even started
        assert (await driver.get(v3_target(snmpd), [SYS_NAME]))[0][1] == b"lvgw-test-switch"
        started_after_v3 = driver.v3_started
        assert started_after_v3
        assert await driver.walk(v3_target(snmpd), [f"{IF_ENTRY}.2"]) == await driver.walk(
            v2c, [f"{IF_ENTRY}.2"]
        )
    finally:
        await driver.close()
    with pytest.raises(SnmpError, match="closed"):
        await driver.get(SnmpTarget(snmpd.host, snmpd.port), [SYS_NAME])


async def test_v3_target_without_credentials_is_refused(snmpd: Snmpd) -> None:
    driver = SnmpDriver()
    try:
        with pytest.raises(SnmpError, match="without credentials"):
            await driver.get(SnmpTarget(snmpd.host, snmpd.port, version="3"), [SYS_NAME])
    finally:
        await driver.close()
