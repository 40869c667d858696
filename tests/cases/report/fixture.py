"""The golden report's inputs: a week of the demo fleet's history with injected faults.

Faults, as of NOW (2026-11-20 17:30 in Beijing):
- nvr-1: disk 2 (HDD2) smart-failed; disk 1 filling 50 000 MB a day, 250 000 MB left;
- panel-1: mains lost on 11-17 14:00-14:40, the battery fell from 13.2 V to 12.2 V
  and held; zone 3 in fault for two days; zone 7 tampered on 11-18; detector of
  zone 5 reports a low battery since yesterday; armed every night;
- ups-1: on battery during the same mains loss, charge down to 71 %;
- sw-core (switch-huawei): power supply 0.2 failed (hwEntityPwrState notSupply);
- sw-floor1 (switch-cisco): errors on port 5 climbing 0.1/s a day;
- sw-floor2 (switch-h3c): unreachable for a quarter of an hour on 11-15 (resolved);
  fan 2 (entity 22) failed since 11-19 22:00 (hh3cEntityExtErrorStatus fanError);
- pbx-1: trunk 3 down (open ticket, from the status snapshot).

The status snapshot is the fixed file status.json next to this module; the metric
store and the ticket history are written here, deterministically, by `write_state`.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.metrics.store.core import SeriesStore
from gateway.model import EventKind, Level, Reading, TicketEvent
from gateway.tickets.history import HistoryFile

CASE = Path(__file__).parent
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
START = NOW - timedelta(days=7)
MAINS_LOST = (datetime(2026, 11, 17, 6, 0, tzinfo=UTC), datetime(2026, 11, 17, 6, 40, tzinfo=UTC))
SW_FLOOR2_DOWN = (
    datetime(2026, 11, 15, 2, 5, tzinfo=UTC),
    datetime(2026, 11, 15, 2, 20, tzinfo=UTC),
)
ZONE7_TAMPER = (datetime(2026, 11, 18, 2, 0, tzinfo=UTC), datetime(2026, 11, 18, 2, 20, tzinfo=UTC))
ZONE3_FAULT_FROM = NOW - timedelta(days=2)
ZONE5_LOW_FROM = NOW - timedelta(days=1)
FAN2_FAILED_FROM = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
SWITCHES = ("sw-core", "sw-floor1", "sw-floor2")
DEVICES = (*SWITCHES, "nvr-1", "pbx-1", "panel-1", "ups-1")


def _times() -> list[datetime]:
    """Hourly over the week, every five minutes around the events."""
    times = {START + timedelta(hours=h) for h in range(7 * 24 + 1)}
    for begin, finish in (MAINS_LOST, SW_FLOOR2_DOWN, ZONE7_TAMPER):
        when = begin - timedelta(minutes=15)
        while when <= finish + timedelta(minutes=15):
            times.add(when)
            when += timedelta(minutes=5)
    return sorted(times)


def _between(when: datetime, span: tuple[datetime, datetime]) -> bool:
    return span[0] <= when < span[1]


def readings(when: datetime) -> list[Reading]:
    days = (when - START) / timedelta(days=1)
    local_hour = (when.hour + 8) % 24
    mains_lost = _between(when, MAINS_LOST)
    into_loss = (when - MAINS_LOST[0]) / timedelta(minutes=40) if mains_lost else 0.0
    out: list[Reading] = []
    for device in DEVICES:
        up = not (device == "sw-floor2" and _between(when, SW_FLOOR2_DOWN))
        out.append(Reading(device, "reachable", up, when))
        if up:
            out.append(Reading(device, "rtt", 1.5 if device != "panel-1" else 4.0, when, unit="ms"))
    for switch in SWITCHES:
        for port in ("1", "2", "3", "4", "5"):
            errors = 0.1 * days if (switch, port) == ("sw-floor1", "5") else 0.0
            out.append(
                Reading(switch, "if.in_errors.rate", round(errors, 4), when, port, "errors/s")
            )
            out.append(Reading(switch, "if.out_errors.rate", 0.0, when, port, "errors/s"))
        out += _environment(switch, local_hour, days, when)
    free = {"1": 600_000 - 50_000 * days, "2": 1_200_000, "3": 3_100_000, "4": 3_900_000}
    for disk, megabytes in free.items():
        out.append(Reading("nvr-1", "disk.free", round(megabytes), when, disk, "MB"))
        out.append(Reading("nvr-1", "disk.capacity", 4_000_000, when, disk, "MB"))
    out.append(Reading("nvr-1", "nvr.memory_usage", 41 + (local_hour % 3), when, unit="%"))
    volts = 13.2 - 1.0 * into_loss if mains_lost else 13.2 - 0.01 * days
    out += [
        Reading("panel-1", "panel.battery_voltage", round(volts, 3), when, unit="V"),
        Reading("panel-1", "panel.mains_voltage", 0 if mains_lost else 229, when, unit="V"),
        Reading("panel-1", "panel.system.mains_fail", mains_lost, when),
        Reading("panel-1", "panel.system.battery_low", False, when),
        Reading("panel-1", "panel.system.comm_fail", False, when),
        Reading("panel-1", "panel.system.box_tamper", False, when),
        Reading("panel-1", "panel.system.armed", local_hour >= 19 or local_hour < 7, when),
        Reading("panel-1", "panel.zone_count", 16, when),
        Reading("panel-1", "panel.map_version", 3, when),
    ]
    for zone in range(1, 17):
        z = str(zone)
        out += [
            Reading("panel-1", "zone.status.alarm", False, when, z),
            Reading("panel-1", "zone.status.fault", zone == 3 and when >= ZONE3_FAULT_FROM, when, z),
            Reading("panel-1", "zone.status.tamper", zone == 7 and _between(when, ZONE7_TAMPER), when, z),
            Reading("panel-1", "zone.status.low_battery", zone == 5 and when >= ZONE5_LOW_FROM, when, z),
        ]  # fmt: skip
    on_battery = (when - MAINS_LOST[0]).total_seconds() + 1 if mains_lost else 0
    out += [
        Reading("ups-1", "ups.seconds_on_battery", on_battery, when, unit="s"),
        Reading("ups-1", "ups.charge", round(100 - 29 * into_loss) if mains_lost else 100, when, unit="%"),
        Reading("ups-1", "ups.battery_voltage", 27.3 - (1.2 * into_loss if mains_lost else 0), when, unit="V"),
        Reading("ups-1", "ups.minutes_remaining", 40 - round(28 * into_loss), when, unit="min"),
        Reading("ups-1", "ups.battery_temperature", 29, when, unit="C"),
    ]  # fmt: skip
    return out


def _environment(switch: str, local_hour: int, days: float, when: datetime) -> list[Reading]:
    """Two temperatures, two fans, two power supplies per switch (as lvgw-sim's switches
    have), in each vendor's tables; states as their MIB codes (the store keeps codes)."""
    warm = 41 + (local_hour >= 9) * 2  # Temperature 1 warms by day; Temperature 2 steady

    def row(point: str, instance: str, value: float) -> Reading:
        return Reading(switch, point, value, when, instance)

    if switch == "sw-core":  # HUAWEI-ENTITY-EXTENT-MIB
        psu2_failed = days >= 5
        return [
            row("entity.temperature", "11", warm), row("entity.temperature", "12", 38),
            row("entity.temperature_threshold", "11", 70),
            row("entity.temperature_threshold", "12", 70),
            row("fan.present", "0.1", 1), row("fan.present", "0.2", 1),  # present(1)
            row("fan.state", "0.1", 1), row("fan.state", "0.2", 1),  # normal(1)
            row("power.present", "0.1", 1), row("power.present", "0.2", 1),
            row("power.state", "0.1", 1), row("power.state", "0.2", 2 if psu2_failed else 1),
        ]  # fmt: skip
    if switch == "sw-floor1":  # CISCO-ENVMON-MIB, CiscoEnvMonState normal(1)
        return [
            row("temperature.value", "1", warm), row("temperature.value", "2", 38),
            row("temperature.threshold", "1", 90), row("temperature.threshold", "2", 90),
            row("temperature.state", "1", 1), row("temperature.state", "2", 1),
            row("fan.state", "1", 1), row("fan.state", "2", 1),
            row("power.state", "1", 1), row("power.state", "2", 1),
        ]  # fmt: skip
    # sw-floor2, HH3C-ENTITY-EXT-MIB: every entity; what one has nothing of reads 0.
    fan2 = 41 if when >= FAN2_FAILED_FROM else 2  # fanError(41), normal(2)
    out = [
        row("entity.temperature", "11", warm), row("entity.temperature", "12", 38),
        row("entity.temperature_threshold", "11", 70),
        row("entity.temperature_threshold", "12", 70),
    ]  # fmt: skip
    for entity in ("1", "21", "22", "31", "32"):
        out += [
            row("entity.temperature", entity, 0),
            row("entity.temperature_threshold", entity, 0),
        ]
    for entity, klass in (
        ("1", 3),
        ("11", 8),
        ("12", 8),
        ("21", 7),
        ("22", 7),
        ("31", 6),
        ("32", 6),
    ):
        out.append(row("entity.class", entity, klass))  # chassis(3), sensor(8), fan(7)...
        out.append(row("entity.error_status", entity, fan2 if entity == "22" else 2))
    return out


def write_store(state_dir: Path) -> None:
    now = START
    store = SeriesStore.open(state_dir / "metrics.db", clock=lambda: now.timestamp())
    try:
        for when in _times():
            now = when
            store.add(readings(when))
        now = NOW
        store.flush()
        store.maintain()
    finally:
        store.close()


def _resolved(ticket_id: str, device: str, kind: str, code: str, level: Level, title: str,
              span: tuple[datetime, datetime], instance: str = "") -> TicketEvent:  # fmt: skip
    occurred, resolved = span
    return TicketEvent(
        f"event-{ticket_id}", EventKind.RESOLVE, ticket_id, 3, level, title, device, kind, code,
        occurred, resolved, occurred + timedelta(hours=1), None, instance, resolved_at=resolved,
    )  # fmt: skip


def write_history(state_dir: Path) -> None:
    history = HistoryFile.in_state_dir(state_dir)
    try:
        history.record([
            _resolved("demo-site-20261009-010000-aaaaaa", "ups-1", "ups", "ups.battery_low",
                      Level.L3, "Server room UPS: battery low on mains (charge 38 %)",
                      (datetime(2026, 10, 9, 1, tzinfo=UTC), datetime(2026, 10, 9, 3, tzinfo=UTC))),
            _resolved("demo-site-20261115-020800-bbbbbb", "sw-floor2", "switch",
                      "device.unreachable", Level.L2, "Floor 2 switch is unreachable",
                      (datetime(2026, 11, 15, 2, 8, tzinfo=UTC), SW_FLOOR2_DOWN[1])),
            _resolved("demo-site-20261117-060100-cccccc", "panel-1", "alarm_panel",
                      "panel.mains_lost", Level.L3,
                      "Alarm panel Intrusion alarm panel lost mains (battery 12.95 V)",
                      (datetime(2026, 11, 17, 6, 1, tzinfo=UTC), MAINS_LOST[1])),
            _resolved("demo-site-20261117-060100-dddddd", "ups-1", "ups", "ups.on_battery",
                      Level.L3, "Server room UPS on battery (38 min left, battery normal)",
                      (datetime(2026, 11, 17, 6, 1, tzinfo=UTC), MAINS_LOST[1])),
        ])  # fmt: skip
    finally:
        history.close()


def write_state(state_dir: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(CASE / "status.json", state_dir / "status.json")
    write_store(state_dir)
    write_history(state_dir)
