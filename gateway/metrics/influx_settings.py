"""Where the InfluxDB sink writes, and how: URL, organization, bucket, token, TLS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gateway.config.site import InfluxDb
from gateway.config.types import Secret, read_secret_file
from gateway.metrics.errors import MetricsConfigError


@dataclass(frozen=True, slots=True)
class InfluxSettings:
    """The InfluxDB v2 write endpoint. The token is a `Secret`: it prints as
    ``<secret>``, and only the writer reveals it, to the HTTP client."""

    url: str
    bucket: str
    org: str = ""
    token: Secret | None = None
    verify_tls: bool = True  # False only for a lab server with a self-made certificate
    ca_cert: Path | None = None  # a private CA to verify the server with
    timeout: float = 10.0  # seconds per write request (connect and read each)
    gzip: bool = True  # compress each batch: a WAN link to the server is the usual case

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MetricsConfigError(f"influxdb url must be http(s)://host[:port]: {self.url!r}")
        if not self.bucket:
            raise MetricsConfigError("influxdb needs a bucket")
        if self.timeout <= 0:
            raise MetricsConfigError(f"influxdb timeout must be positive, not {self.timeout}")
        if self.ca_cert is not None and not self.ca_cert.is_file():
            raise MetricsConfigError(f"influxdb CA certificate {self.ca_cert} is not a file")

    @property
    def topic(self) -> str:
        """The outbox topic of this sink's waiting batches."""
        return f"influx:{self.bucket}"

    @classmethod
    def from_config(cls, config: InfluxDb) -> InfluxSettings:
        """From the site file's ``metrics.influxdb``; reads the token file now, so an
        unreadable one stops the start with a clear message instead of every write failing.
        """
        token = None
        if config.token_file is not None:
            try:
                token = read_secret_file(config.token_file)
            except OSError as exc:
                raise MetricsConfigError(
                    f"influxdb token_file {config.token_file}: {exc.strerror or exc}"
                ) from exc
            if not token.reveal():
                raise MetricsConfigError(f"influxdb token_file {config.token_file} is empty")
        return cls(
            url=config.url,
            bucket=config.bucket,
            org=config.org,
            token=token,
            verify_tls=config.verify_tls,
            ca_cert=config.ca,
        )
