"""Readings through the sink and influxdb-client into a real VictoriaMetrics, read back
exactly: float values, integer state codes, bools as 0/1, tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.metrics.influx import MetricsSink, SinkOptions
from gateway.metrics.influx_settings import InfluxSettings
from gateway.metrics.influx_writer import InfluxWriter
from gateway.model import Reading
from gateway.outbox import Outbox
from tests.metrics.samples import sink_running, site_schema, switch_poll, ups_poll, wait_for
from tests.metrics.victoria import Samples, VictoriaMetrics, count

pytestmark = pytest.mark.integration

FAST = SinkOptions(flush_interval=0.05)


def now_ms() -> datetime:
    # VictoriaMetrics keeps milliseconds: start from a whole one so times compare exactly.
    ts = datetime.now(UTC) - timedelta(minutes=5)
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


def ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def expected_switch(site: str, ts: datetime, ports: int, seq: int) -> Samples:
    """What switch_poll() must become, written out from the profile's meaning."""
    device = {"device": "sw-1", "kind": "switch", "site": site}
    out: Samples = {}

    def put(name: str, labels: dict[str, str], value: float) -> None:
        key = (f"lvgw_device_{name}", tuple(sorted(labels.items())))
        out.setdefault(key, {})[ms(ts)] = value

    put("reachable", device, 1)
    put("rtt", device, round(1.25 + seq / 1000, 3))
    put("sys.uptime", device, 3600.5 + seq)
    for port in range(1, ports + 1):
        row = {**device, "table": "if", "instance": str(port), "label": f"Gi0/{port}"}
        put("if.oper_status", row, 1 if port % 2 else 2)  # up 1, down 2
        put("if.admin_status", row, 1)
        put("if.in_octets.rate", row, 125.5 * port + seq)
        put("if.in_errors.rate", row, float(seq % 3))
    info = {**device, "sys.descr": "Generic switch, rev 2"}
    put_info = ("lvgw_device_info_present", tuple(sorted(info.items())))
    out[put_info] = {ms(ts): 1}
    return out


async def test_a_poll_reads_back_exactly_as_written(
    victoria: VictoriaMetrics, outbox: Outbox
) -> None:
    site = "roundtrip-1"
    settings = InfluxSettings(url=victoria.url, org="lvgw", bucket="site")
    sink = MetricsSink(settings, outbox, site_schema(site), FAST)
    ts = now_ms()
    async with sink_running(sink):
        await sink.submit(switch_poll("sw-1", ts, ports=3, seq=7))
        await sink.submit(ups_poll("ups-1", ts, seq=4))
        want = expected_switch(site, ts, ports=3, seq=7)
        ups = {"device": "ups-1", "kind": "ups", "site": site}
        for name, labels, value in [
            ("reachable", ups, 1),
            ("ups.battery_status", ups, 3),  # "low": the profile's raw code 3
            ("ups.charge", ups, 96),
            ("ups.battery_voltage", ups, 27.3),
            ("output.load", {**ups, "table": "output", "instance": "1"}, 41),
        ]:
            want[(f"lvgw_device_{name}", tuple(sorted(labels.items())))] = {ms(ts): value}
        got = await victoria.wait_samples(
            f'{{site="{site}"}}', lambda got: count(got) >= count(want), what="the poll"
        )
        await wait_for(lambda: sink.stats().written_batches == 1, "the write's answer")
    assert got == want
    stats = sink.stats()
    assert (stats.written_batches, stats.spilled_batches, stats.backlog_batches) == (1, 0, 0)
    assert stats.influx_ok is True


@pytest.mark.parametrize("gzip", [True, False])
async def test_tags_with_any_text_survive_the_trip(victoria: VictoriaMetrics, gzip: bool) -> None:
    site = f"roundtrip-tags-{gzip}"
    label = 'Port 1, uplink = "core" \\ été'
    writer = InfluxWriter(InfluxSettings(url=victoria.url, bucket="b", gzip=gzip))
    ts = now_ms()
    try:
        lines = site_schema(site).lines(
            [
                Reading("sw-1", "if.name", label, ts, "1"),
                Reading("sw-1", "if.in_errors.rate", 2.5, ts, "1"),
            ]
        )
        await writer.write("\n".join(lines).encode())
    finally:
        await writer.close()
    got = await victoria.wait_samples(f'{{site="{site}"}}', bool, what="the row")
    ((name, labels),) = got
    assert name == "lvgw_device_if.in_errors.rate"
    assert dict(labels)["label"] == label
    assert got[(name, labels)] == {ms(ts): 2.5}
