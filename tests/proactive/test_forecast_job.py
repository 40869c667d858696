"""The forecast job over the real embedded store, on a controlled clock with restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.model import Reading
from gateway.snapshot import AgentInfo, DeviceStatus, SiteInfo, StatusSnapshot
from tests.proactive.conftest import Gateway, shanghai

DEVICES = """
  - {id: nvr-1, name: Recorder lobby, kind: nvr, profile: nvr-test, address: 127.0.0.2}
  - {id: panel-1, kind: alarm_panel, profile: panel-test, address: 127.0.0.3, modbus: {unit: 1}}
"""
T0 = shanghai(2026, 3, 1, 9)


async def record(
    gateway: Gateway, start: datetime, hours: int, values: Callable[[float], list[Reading]]
) -> None:
    """Readings every hour from ``start`` (the clock follows), as the pollers would store them."""
    assert gateway.metrics is not None
    for hour in range(hours + 1):
        when = start + timedelta(hours=hour)
        gateway.clock.set(when)
        await gateway.metrics.add(values((when - T0) / timedelta(days=1)))
        # The store's worker takes the readings later, by its clock: let it have them
        # before the clock moves on (else the oldest are "too old" by then).
        await gateway.metrics.flush()


def fleet(days: float, when: datetime, disk1_free: float | None = None) -> list[Reading]:
    """Disk 1 fills 10 000 MB a day from 100 000 MB free (full on day 10); disk 2 holds
    steady; the panel battery sags 0.05 V a day from 12.8 V (its rule's 11.8 V on day 20)."""
    free = 100_000 - 10_000 * days if disk1_free is None else disk1_free
    return [
        Reading("nvr-1", "disk.free", free, when, "1", "MB"),
        Reading("nvr-1", "disk.free", 2_500_000.0 + (days % 1) * 10, when, "2", "MB"),
        Reading("nvr-1", "disk.capacity", 4_000_000.0, when, "1", "MB"),
        Reading("panel-1", "panel.battery_voltage", round(12.8 - 0.05 * days, 3), when),
        Reading("panel-1", "panel.system.mains_fail", False, when),
    ]


async def test_forecasts_open_once_survive_restarts_and_resolve_when_the_trend_ends(
    gateway_factory: Callable[..., Gateway],
) -> None:
    gateway = gateway_factory("{type: annual, ends: 2027-06-30}", T0, DEVICES)
    await gateway.start()
    await record(gateway, T0, 7 * 24, lambda days: fleet(days, gateway.clock()))
    now = gateway.clock()
    assert "forecast" in await gateway.step(now + timedelta(minutes=1))

    events = await gateway.ticket_events()
    forecasts = {(e["device"]["id"], e["fault"]["code"], e["fault"]["instance"]): e for e in events}
    assert set(forecasts) == {
        ("nvr-1", "forecast.disk_full", "1"),
        ("panel-1", "forecast.battery_low", None),
    }
    disk = forecasts["nvr-1", "forecast.disk_full", "1"]
    assert disk["event"] == "open" and disk["severity"] == 4
    assert disk["onsite_due"] is None and disk["loaner_due"] is None  # nothing failed yet
    assert disk["title"] == "Disk 1 of Recorder lobby forecast to be full by 2026-03-11"
    evidence = {item["point"]: item["value"] for item in disk["fault"]["evidence"]}
    assert evidence["forecast.days_left"] == 3.0
    assert evidence["forecast.per_day"] == -10_000.0
    battery = forecasts["panel-1", "forecast.battery_low", None]
    assert battery["severity"] == 4
    # The rule's threshold (11.8 V), reached 20 days after the start.
    assert battery["title"] == "Backup battery of panel-1 forecast below 11.8 V by 2026-03-21"

    # Restarted, with an hour more of the same: the tickets carry on, nothing new is sent.
    await gateway.restart()
    await record(gateway, now + timedelta(hours=1), 0, lambda days: fleet(days, gateway.clock()))
    assert "forecast" in await gateway.step(gateway.clock() + timedelta(minutes=1))
    assert len(await gateway.ticket_events()) == 2
    await gateway.restart()
    assert await gateway.step(gateway.clock() + timedelta(minutes=58)) == []  # same hour

    # Disk 1 replaced with an empty one: a jump the line no longer fits. Resolved.
    later = gateway.clock() + timedelta(hours=1)
    await record(
        gateway, later, 6, lambda days: fleet(days, gateway.clock(), disk1_free=3_990_000.0)
    )
    assert "forecast" in await gateway.step(gateway.clock() + timedelta(minutes=1))
    events = await gateway.ticket_events()
    assert [(e["event"], e["device"]["id"]) for e in events] == [
        ("open", "nvr-1"), ("open", "panel-1"), ("resolve", "nvr-1")
    ]  # fmt: skip
    assert events[2]["ticket_id"] == disk["ticket_id"]


async def test_a_store_without_watched_points_or_thresholds_forecasts_nothing(
    gateway_factory: Callable[..., Gateway],
) -> None:
    gateway = gateway_factory("{type: annual}", T0, DEVICES)
    await gateway.start()

    def other(days: float) -> list[Reading]:
        when = gateway.clock()
        return [
            Reading("nvr-1", "sys.uptime", days * 86400, when),
            # A UPS-style point with no rule and no default threshold: not forecast.
            Reading("panel-1", "ups.battery_voltage", 27.0 - days, when),
        ]

    await record(gateway, T0, 3 * 24, other)
    assert "forecast" in await gateway.step(gateway.clock() + timedelta(minutes=1))
    assert await gateway.ticket_events() == []


async def test_a_switch_temperature_sensor_climbing_opens_a_level_4_ticket(
    gateway_factory: Callable[..., Gateway],
) -> None:
    # ENTITY-SENSOR-MIB: sensor 1 is a temperature in tenths of a degree (precision 1),
    # sensor 2 a fan; its type and name come from the status snapshot.
    status = StatusSnapshot(
        site=SiteInfo(id="site-pm", name="Harbour Depot", customer="Harbour Logistics"),
        generated_at=T0,
        agent=AgentInfo(version="0.1.0", pid=1),
        devices=(DeviceStatus(id="sw-core", kind="switch", address="127.0.0.1", tables={
            "sensor.type": {"1": "celsius", "2": "rpm"}, "sensor.name": {"1": "CPU", "2": "Fan 1"},
        }),),
    )  # fmt: skip
    gateway = gateway_factory("{type: annual}", T0, status=lambda: status)
    await gateway.start()

    def sensors(days: float) -> list[Reading]:
        when = gateway.clock()
        return [
            # 45.0 °C climbing 2 °C a day: switch-generic's 70 °C on day 12.5.
            Reading("sw-core", "sensor.value", round(450 + 20 * days), when, "1"),
            Reading("sw-core", "sensor.precision", 1, when, "1"),
            Reading(
                "sw-core", "sensor.value", 5200 + 100 * days, when, "2"
            ),  # a fan: not a temperature
            Reading("sw-core", "sensor.precision", 0, when, "2"),
        ]

    await record(gateway, T0, 7 * 24, sensors)
    assert "forecast" in await gateway.step(gateway.clock() + timedelta(minutes=1))
    events = await gateway.ticket_events("forecast.temperature")
    assert [(e["event"], e["severity"], e["fault"]["instance"]) for e in events] == [
        ("open", 4, "1")
    ]
    assert events[0]["title"] == "Temperature of sw-core (sensor 1) climbing: 70 °C by 2026-03-13"
    evidence = {item["point"]: item["value"] for item in events[0]["fault"]["evidence"]}
    assert evidence["sensor.value"] == 59.0  # scaled to degrees
    assert evidence["forecast.days_left"] == 5.5
