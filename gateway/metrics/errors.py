"""The metric sinks' exceptions.

MetricsError                 anything the metrics side could not do
├── MetricsConfigError       the sink's settings cannot work (token file unreadable...)
├── InfluxUnavailable        InfluxDB did not take the batch now: keep it, retry later
│   └── InfluxRefused        InfluxDB refuses every write (401, 403, 404): a configuration
│                            fault shown in the status; still retried, the data is kept
└── InfluxRejected           InfluxDB refused this batch itself (400, 413, 422): retrying
                             cannot help, the batch is dropped and counted

influxdb-client's and urllib3's exceptions are converted where the writer calls them,
with ``raise ... from``; nothing above the writer sees them.
"""

from __future__ import annotations


class MetricsError(Exception):
    """A metric sink could not do what was asked."""


class MetricsConfigError(MetricsError):
    """The metric settings cannot work as given (named in the message)."""


class InfluxUnavailable(MetricsError):
    """InfluxDB did not accept the batch now (unreachable, timeout, 5xx, 429, TLS)."""


class InfluxRefused(InfluxUnavailable):
    """InfluxDB refuses every write: wrong token, organization or bucket (401, 403, 404)."""


class InfluxRejected(MetricsError):
    """InfluxDB refused this batch as malformed or too large; sending it again cannot help."""
