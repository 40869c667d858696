"""The embedded metric store: history of every numeric reading on the box, in one SQLite file.

`MetricStore` (metric_store.py) is the asyncio face: a `gateway.sqlite.Worker` owns the
synchronous core `SeriesStore` (core.py). The core's parts: the file and its schema
(db.py), the series registry (series.py), the write buffer (buffer.py), the index of
recent samples (recent.py), maintenance (maintain.py: downsampling, pruning, budget),
reads (query.py; batch.py: one pass of ``recent`` for a read of many series), bucket
arithmetic (buckets.py), the value types (types.py) and the exceptions (errors.py).
`StoreHistory` (history.py) reads the file from a process or task that does not own it.
See docs/embedded-store.md.
"""

from gateway.metrics.store.core import SeriesStore
from gateway.metrics.store.errors import (
    StoreClosedError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreReadOnlyError,
)
from gateway.metrics.store.history import METRICS_NAME, StoreHistory
from gateway.metrics.store.metric_store import MetricStore
from gateway.metrics.store.types import (
    Clock,
    Resolution,
    Sample,
    Series,
    StoreConfig,
    StoreStats,
)

__all__ = [
    "METRICS_NAME",
    "Clock",
    "MetricStore",
    "Resolution",
    "Sample",
    "Series",
    "SeriesStore",
    "StoreClosedError",
    "StoreConfig",
    "StoreCorruptError",
    "StoreError",
    "StoreFullError",
    "StoreHistory",
    "StoreReadOnlyError",
    "StoreStats",
]
