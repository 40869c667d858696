"""VictoriaMetrics (Debian's `victoria-metrics`) as a real InfluxDB-v2-write server.

It takes influxdb-client's writes on /api/v2/write and stores each field as a series
``<measurement>_<field>{tags}`` with millisecond timestamps; /api/v1/export reads
them back raw. String fields are stored as 0 without an error, which is why the
schema sends numbers only. Values keep about 15 significant digits (its decimal
encoding): 1.3679999999999999 comes back as 1.368. Also used by bench/influx_sink.py.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.realservers import Server, free_port, which

# One exported sample: (metric name, sorted labels) -> {timestamp ms: value}
SeriesKey = tuple[str, tuple[tuple[str, str], ...]]
Samples = dict[SeriesKey, dict[int, float]]


class VictoriaMetrics(Server):
    name = "victoria-metrics"

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        tls: tuple[Path, Path] | None = None,  # (certificate, key): serve https
    ) -> None:
        super().__init__(workdir)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.data = workdir / "data"
        self.tls = tls

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            which("victoria-metrics"),
            f"-httpListenAddr={self.host}:{self.port}",
            f"-storageDataPath={self.data}",
            "-retentionPeriod=1d",
            "-search.latencyOffset=0s",
            "-loggerLevel=ERROR",
        ]
        if self.tls:
            cmd += ["-tls", f"-tlsCertFile={self.tls[0]}", f"-tlsKeyFile={self.tls[1]}"]
        return cmd

    def ready(self) -> bool:
        try:
            return self._get("/health", timeout=0.5).strip() == b"OK"
        except OSError:
            return False

    def _get(self, path: str, timeout: float = 5.0) -> bytes:
        context = None
        if self.tls:  # the readiness probe and read-back need no verification
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(self.url + path, timeout=timeout, context=context) as answer:
            body: bytes = answer.read()
            return body

    def samples(self, match: str) -> Samples:
        """Everything stored for a series selector, e.g. ``{site="t1"}``, made readable
        first (/internal/force_flush)."""
        self._get("/internal/force_flush")
        query = urllib.parse.urlencode({"match[]": match, "start": "0"})
        out: Samples = {}
        for row in self._get(f"/api/v1/export?{query}").splitlines():
            series = json.loads(row)
            labels = dict(series["metric"])
            name = labels.pop("__name__")
            key = (name, tuple(sorted(labels.items())))
            values = out.setdefault(key, {})
            for ts, value in zip(series["timestamps"], series["values"], strict=True):
                values[int(ts)] = float(value)
        return out

    async def wait_samples(
        self,
        match: str,
        done: Callable[[Samples], bool],
        timeout: float = 10.0,
        what: str = "samples",
    ) -> Samples:
        """Read back until ``done`` says the expected samples are there (the event loop
        keeps running in between, so a sink under test goes on writing)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.samples(match)
            if done(got):
                return got
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not in VictoriaMetrics within {timeout} s: {got}")
            await asyncio.sleep(0.05)


def count(samples: Samples) -> int:
    """How many (series, time) points."""
    return sum(len(values) for values in samples.values())
