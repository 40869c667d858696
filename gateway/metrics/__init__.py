"""Health metrics: readings -> the embedded store on the box (and external sinks)."""

from gateway.metrics.errors import (
    InfluxRefused,
    InfluxRejected,
    InfluxUnavailable,
    MetricsConfigError,
    MetricsError,
)
from gateway.metrics.influx import MetricsSink, SinkOptions, SinkStats
from gateway.metrics.influx_settings import InfluxSettings
from gateway.metrics.schema import GATEWAY_DEVICE, MetricSchema
from gateway.metrics.selfstats import SelfStats

__all__ = [
    "GATEWAY_DEVICE",
    "InfluxRefused",
    "InfluxRejected",
    "InfluxSettings",
    "InfluxUnavailable",
    "MetricSchema",
    "MetricsConfigError",
    "MetricsError",
    "MetricsSink",
    "SelfStats",
    "SinkOptions",
    "SinkStats",
]
