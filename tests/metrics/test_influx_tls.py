"""TLS to InfluxDB (VictoriaMetrics serving https): verified against the site's CA,
refused without it, and taken unverified only when the site file says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from gateway.metrics.influx import MetricsSink, SinkOptions
from gateway.metrics.influx_settings import InfluxSettings
from gateway.model import Reading
from gateway.outbox import Outbox
from tests.delivery.certs import CertAuthority
from tests.metrics.samples import samples_of, sink_running, site_schema, ups_poll, wait_for
from tests.metrics.victoria import VictoriaMetrics, count
from tests.realservers import running

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tls_victoria(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[VictoriaMetrics, CertAuthority]]:
    workdir = tmp_path_factory.mktemp("victoria-tls")
    authority = CertAuthority(workdir / "pki")
    server_pair = authority.issue("influx", server=True)
    server = VictoriaMetrics(workdir, tls=(server_pair.cert, server_pair.key))
    with running(server):
        yield server, authority


def ups_now(seq: int) -> list[Reading]:
    ts = datetime.now(UTC)
    return ups_poll("ups-1", ts.replace(microsecond=ts.microsecond // 1000 * 1000), seq=seq)


@pytest.mark.parametrize("verified", [True, False], ids=["site-ca", "verify-off"])
async def test_https_with_the_sites_ca_or_without_verification(
    tls_victoria: tuple[VictoriaMetrics, CertAuthority],
    outbox: Outbox,
    verified: bool,
) -> None:
    server, authority = tls_victoria
    site = f"tls-{verified}"
    settings = InfluxSettings(
        url=server.url,
        bucket="site",
        ca_cert=authority.ca.cert if verified else None,
        verify_tls=verified,
    )
    assert settings.url.startswith("https://")
    schema = site_schema(site)
    sink = MetricsSink(settings, outbox, schema, SinkOptions(flush_interval=0.05))
    poll = ups_now(1)
    async with sink_running(sink):
        await sink.submit(poll)
        want = samples_of(schema.lines(poll))
        got = await server.wait_samples(
            f'{{site="{site}"}}', lambda got: count(got) >= count(want), what="the poll"
        )
    assert got == want
    assert sink.stats().spilled_batches == 0


async def test_an_unknown_certificate_is_refused_and_the_batch_kept(
    tls_victoria: tuple[VictoriaMetrics, CertAuthority], outbox: Outbox
) -> None:
    server, _ = tls_victoria
    site = "tls-unknown-ca"
    settings = InfluxSettings(url=server.url, bucket="site")  # the system CAs only
    sink = MetricsSink(settings, outbox, site_schema(site), SinkOptions(flush_interval=0.05))
    async with sink_running(sink):
        await sink.submit(ups_now(2))
        await wait_for(lambda: sink.stats().spilled_batches == 1, "the batch kept")
    stats = sink.stats()
    assert stats.influx_ok is False
    assert "CERTIFICATE_VERIFY_FAILED" in stats.last_error
    assert server.samples(f'{{site="{site}"}}') == {}
