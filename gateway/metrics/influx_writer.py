"""One batch of line protocol -> InfluxDB's v2 write API, through influxdb-client.

influxdb-client's synchronous write API runs in a thread of the writer's own, one
request at a time (so batches arrive in the order given); the event loop only awaits
the result. Measured against the alternatives (docs/performance.md, "InfluxDB sink"):
its CPU per value is about that of the asyncio client (which would need aiohttp and
aiocsv), and a twelfth of the batching write API's (whose reactive pipeline also
keeps its retries and buffer in memory, out of the outbox's reach).

The library's own retries are off: the sink decides what to retry, and when.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import urllib3.exceptions
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS, WriteApi
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from gateway.metrics.errors import InfluxRefused, InfluxRejected, InfluxUnavailable
from gateway.metrics.influx_settings import InfluxSettings

log = logging.getLogger("lvgw.metrics.influx")

WRITER_THREAD_NAME = "lvgw-influx"

_REJECTED = frozenset({400, 413, 422})  # this batch is bad: do not send it again
_REFUSED = frozenset({401, 403, 404})  # every batch would be: a configuration fault
# The library types the precision as its class but its values are plain strings.
_MILLISECONDS = cast(WritePrecision, WritePrecision.MS)


class InfluxWriter:
    """Writes line-protocol batches (millisecond timestamps) to one bucket.

    Raises `InfluxUnavailable` (retry later), its subclass `InfluxRefused` (a
    configuration fault; retry later too) or `InfluxRejected` (drop the batch).
    """

    def __init__(self, settings: InfluxSettings) -> None:
        self.settings = settings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=WRITER_THREAD_NAME)
        self._client: InfluxDBClient | None = None  # made and used in the writer thread
        self._write_api: WriteApi | None = None

    async def write(self, payload: bytes) -> None:
        await asyncio.wrap_future(self._executor.submit(self._write, payload))

    async def close(self) -> None:
        """Close the HTTP client and join the thread (after a write still under way,
        which ends within the timeout)."""
        self._executor.submit(self._close_client)
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown)

    # -- in the writer thread -------------------------------------------------------

    def _api(self) -> WriteApi:
        if self._write_api is None:
            s = self.settings
            timeout_ms = int(s.timeout * 1000)
            self._client = InfluxDBClient(
                url=s.url,
                token=s.token.reveal() if s.token is not None else "",
                org=s.org,
                timeout=(timeout_ms, timeout_ms),
                enable_gzip=s.gzip,
                verify_ssl=s.verify_tls,
                ssl_ca_cert=str(s.ca_cert) if s.ca_cert is not None else None,
            )
            self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
            if not s.verify_tls and s.url.startswith("https:"):
                # Chosen in the site file: said once here, not warned on every request.
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
                log.warning("influxdb at %s: TLS certificate not verified (verify_tls off)", s.url)
        return self._write_api

    def _write(self, payload: bytes) -> None:
        s = self.settings
        try:
            self._api().write(
                bucket=s.bucket, org=s.org, record=payload, write_precision=_MILLISECONDS
            )
        except ApiException as exc:
            raise _http_error(exc) from exc
        except (urllib3.exceptions.HTTPError, OSError, InfluxDBError) as exc:
            raise InfluxUnavailable(f"InfluxDB at {s.url} unreachable: {_reason(exc)}") from exc
        except Exception as exc:  # a library surprise must not end the sink: keep, retry
            log.exception("influxdb write failed unexpectedly")
            raise InfluxUnavailable(f"InfluxDB write failed: {exc!r}") from exc

    def _close_client(self) -> None:
        if self._client is not None:
            self._client.close()  # type: ignore[no-untyped-call]
            self._client = self._write_api = None


def _http_error(exc: ApiException) -> InfluxUnavailable | InfluxRejected:
    status = int(exc.status or 0)
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body or ""
    what = f"InfluxDB answered {status} {exc.reason or ''}".rstrip()
    detail = f"{what}: {body.strip()[:300]}" if body.strip() else what
    if status in _REJECTED:
        return InfluxRejected(detail)
    if status in _REFUSED:
        return InfluxRefused(f"{detail} (check the token, organization and bucket)")
    return InfluxUnavailable(detail)


def _reason(exc: BaseException) -> str:
    # urllib3 wraps the cause (refused, TLS, timeout) in MaxRetryError.reason.
    reason = getattr(exc, "reason", None)
    return str(reason if isinstance(reason, BaseException) else exc)
