"""The disk forecast on a simulator run: the simulated NVR (served over real SNMP by the
simulators' pysnmp agent) records onto its disks at a known rate; the gateway polls it
with its own SNMP reader every simulated hour for a day, and the forecast must name
the moment each disk fills, as the simulator's model computes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from drivers.snmp.driver import SnmpDriver
from gateway.config import load_config
from gateway.metrics.store import MetricStore
from gateway.proactive.forecasting import findings
from gateway.proactive.watches import DISK_FULL
from gateway.protocols.snmp.reader import SnmpPointReader
from simulators.fleet import load_fleet
from simulators.models.nvr import NvrModel
from simulators.runtime import FleetRuntime
from simulators.siteconfig import site_document
from tests.realservers import free_port

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def fleet_file(directory: Path, port: int) -> Path:
    path = directory / "fleet.yaml"
    path.write_text(
        f"""
control: 127.0.0.1:{free_port()}
defaults: {{port: {port}, interval: 1h, snmp: {{community: public}}}}
site:
  id: sim-forecast
  name: Simulated recorder room
  customer: {{name: Test Customer}}
  contract: {{type: annual, ends: 2027-06-30}}
devices:
  # Four cameras at 2048 kbit/s: 1 MB/s spread over four disks of 200 000 MB.
  - {{id: nvr-1, kind: nvr, address: 127.0.0.1, disks: 4, cameras: 4, camera_kbps: 2048,
      disk_capacity_mb: 200000}}
"""
    )
    return path


async def test_the_forecast_names_the_hour_each_simulated_disk_fills(tmp_path: Path) -> None:
    fleet = load_fleet(fleet_file(tmp_path, free_port()))
    now = T0
    runtime = FleetRuntime(fleet, clock=lambda: now.timestamp())
    site = tmp_path / "site.yaml"
    document = site_document(fleet)
    document["agent"] = {"state_dir": str(tmp_path / "state"), "status_listen": None}
    site.write_text(yaml.safe_dump(document))
    config = load_config(site)
    device = config.device("nvr-1")
    driver = SnmpDriver()
    reader = SnmpPointReader(device, config.profile_of(device), driver)
    store = await MetricStore(tmp_path / "metrics.db", clock=lambda: now.timestamp()).open()
    await runtime.start()
    try:
        for hour in range(25):  # a day of hourly polls, on the simulated clock
            now = T0 + timedelta(hours=hour)
            result = await reader.poll()
            assert result.reachable, result.error
            await store.add(r._replace(ts=now) for r in result.readings)
            await store.flush()
        model = runtime.model("nvr-1")
        assert isinstance(model, NvrModel)
        model.refresh(now.timestamp())
        found = {f.instance: f for f in await findings(config, store, now, (DISK_FULL,))}
    finally:
        await runtime.stop()
        await store.close()
        await driver.close()

    assert sorted(found) == ["1", "2", "3", "4"]
    for disk in model.disks:
        rate = disk.used_mb.rate  # MB/s, the model's own
        assert rate == pytest.approx(0.25)
        full_at = now + timedelta(seconds=disk.free_mb(now.timestamp()) / rate)
        seen = found[str(disk.index)].outlook
        assert seen.trusted
        assert seen.eta is not None
        # The agent reads whole megabytes once an hour: the answer is right to a minute.
        assert abs(seen.eta - full_at) < timedelta(minutes=1), (disk.index, seen.eta, full_at)
        assert seen.trend is not None
        assert seen.trend.per_day == pytest.approx(-0.25 * 86400, rel=1e-3)
