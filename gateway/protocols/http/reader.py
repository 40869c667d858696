"""Poll a device's profile over an HTTP API (ISAPI, Dahua): each resource the profile
names is fetched once per poll, its answer parsed by the protocol's ``Dialect``, and
every point and table column found in it decoded through the profile.

What can go wrong is classified, logged once when it starts (and once when it ends),
and never stops the polling:

- no answer, refused connection, timeout: the device is unreachable (``reachable``
  False), as over SNMP; while it stays down a poll is a single request;
- credentials or TLS refused: the device answers but cannot be read; ``access`` says
  why (``auth_failed``, ``tls_failed``) and the profile's rule opens a ticket for it.
  One poll makes one request (two with the digest challenge), never more;
- an error status, an HTML page, malformed XML or text, an answer too large: the
  points of that resource are read as bad values, the others as usual.

A presence column (``presence: true``) is whether its instance is among the rows of
its resource. A resource that lists instances only while something happens to them
(Dahua's event indexes) answers with its error text when it lists none: for a
presence column that is an empty list, not a failure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Generic, Protocol, TypeVar

from drivers.http import (
    HttpAuthError,
    HttpContentError,
    HttpDevice,
    HttpError,
    HttpErrorAnswer,
    HttpStatusError,
    HttpTlsError,
    HttpTooLarge,
)
from gateway.config.profile import Point, Profile
from gateway.config.protocols.http import HttpPoint
from gateway.config.protocols.isapi import http_point, http_rows
from gateway.config.site import Device
from gateway.model import Quality, Reading
from gateway.poller.decode import PointDecoder
from gateway.poller.result import PollResult

log = logging.getLogger("lvgw.http")

Doc = TypeVar("Doc")
Row = TypeVar("Row")

MAX_TEXT = 200  # characters of a device's word kept in a reading or a log line


class Dialect(Protocol[Doc, Row]):
    """How one API's answers are read: ISAPI's XML, Dahua's ``key=value`` lines."""

    def parse(self, body: bytes) -> Doc: ...

    def value(self, doc: Doc, field: str) -> str | None: ...

    def rows(self, doc: Doc, row: str, key: str | None) -> dict[str, Row]: ...

    def cell(self, row: Row, field: str) -> str | None: ...


def wire_value(point: Point, address: HttpPoint, text: str, zone: tzinfo = UTC) -> object:
    """A device's word -> the raw value the point's decoder takes (a code, a number,
    Unix seconds, text); ``ValueError`` when it is none of these. A time without an
    offset is the device's local time, taken in ``zone``."""
    if address.codes is not None:
        if text in address.codes:
            return address.codes[text]
        return _Unknown(text[:MAX_TEXT])
    if point.type == "int":
        return int(text)
    if point.type == "float":
        return float(text)
    if point.type == "datetime":
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if stamp.tzinfo is None:  # a device that gives no offset: its zone's wall time
            stamp = stamp.replace(tzinfo=zone)
        return stamp.timestamp()
    return text[:MAX_TEXT]


@dataclass(frozen=True, slots=True)
class _Unknown:
    word: str


@dataclass(frozen=True, slots=True)
class _Source:
    path: str
    row: str | None  # None: scalars of the answer
    key: str | None


@dataclass(frozen=True, slots=True)
class _Scalar:
    name: str
    decoder: PointDecoder
    address: HttpPoint
    source: _Source


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    rows: _Source
    columns: tuple[tuple[PointDecoder, HttpPoint, _Source], ...]


class HttpReader(Generic[Doc, Row]):
    """Reads one device per poll through its HTTP API."""

    def __init__(
        self,
        device: Device,
        profile: Profile,
        client: HttpDevice,
        dialect: Dialect[Doc, Row],
        poll_bytes: int,
        zone: tzinfo = UTC,
    ) -> None:
        self.device = device
        self.client = client
        self.dialect = dialect
        self.poll_bytes = poll_bytes
        self.zone = zone  # the device's wall clock, for times it gives without an offset
        self.scalars: list[_Scalar] = []
        for name, point in profile.points.items():
            address = http_point(point)
            assert address.path is not None, "checked at load"
            self.scalars.append(
                _Scalar(name, PointDecoder(name, point), address, _Source(address.path, None, None))
            )
        self.tables: list[_Table] = []
        for table_name, spec in profile.tables.items():
            where = http_rows(spec)
            assert where.path is not None, "checked at load"
            assert where.row is not None, "checked at load"
            rows = _Source(where.path, where.row, where.key)
            columns = []
            for column, point in spec.columns.items():
                address = http_point(point)
                source = _Source(
                    address.path or rows.path, address.row or rows.row, address.key or rows.key
                )
                columns.append((PointDecoder(f"{table_name}.{column}", point), address, source))
            self.tables.append(_Table(table_name, rows, tuple(columns)))
        self.paths = list(dict.fromkeys(self._sources_paths()))
        # Resources only presence columns read: their error answer is an empty list.
        self.presence_paths = (
            {s.path for table in self.tables for _, s in _sources(table, presence=True)}
            - {s.path for table in self.tables for _, s in _sources(table, presence=False)}
            - {scalar.source.path for scalar in self.scalars}
        )
        self.down = False
        self.trouble = ""  # the kind of failure last logged, "" while all is well

    def _sources_paths(self) -> Iterable[str]:
        for scalar in self.scalars:
            yield scalar.source.path
        for table in self.tables:
            for _, source in _sources(table):
                yield source.path

    # -- one poll -------------------------------------------------------------------

    async def poll(self) -> PollResult:
        ts = datetime.now(UTC)
        started = time.monotonic()
        docs: dict[str, Doc | HttpError] = {}
        received = 0
        paths = self.paths[:1] if self.down else self.paths  # while down: one probe
        for index, path in enumerate(paths):
            try:
                body = await self.client.get(path)
                received += len(body)
                if received > self.poll_bytes:
                    raise HttpTooLarge(f"poll exceeded its budget of {self.poll_bytes} bytes")
                docs[path] = self.dialect.parse(body)
            except (HttpAuthError, HttpTlsError) as exc:
                return self._refused(ts, started, exc)
            except HttpError as exc:
                if index == 0 and not _answered(exc):
                    return self._unreachable(ts, exc)
                docs[path] = exc
        if self.down:  # back: read everything at once
            self.down = False
            return await self.poll()
        now = time.monotonic()
        readings = [
            Reading(self.device.id, "reachable", True, ts),
            Reading(self.device.id, "rtt", round((now - started) * 1000.0, 3), ts, unit="ms"),
            Reading(self.device.id, "access", "ok", ts),
        ]
        failed = {
            path: exc
            for path, exc in docs.items()
            if isinstance(exc, HttpError)
            and not (path in self.presence_paths and isinstance(exc, HttpErrorAnswer))
        }
        for scalar in self.scalars:
            doc = docs.get(scalar.source.path)
            text = None if isinstance(doc, HttpError) or doc is None else self._value(doc, scalar)
            readings += self._decode(scalar.decoder, scalar.address, text, ts, "")
        for table in self.tables:
            readings += self._table(table, docs, ts)
        self._settle(failed)
        error = "; ".join(f"{p}: {e.kind}: {e}" for p, e in failed.items())
        return PollResult(self.device.id, ts, True, tuple(readings), error[:500])

    def _value(self, doc: Doc, scalar: _Scalar) -> str | None:
        assert scalar.address.field is not None
        return self.dialect.value(doc, scalar.address.field)

    def _table(self, table: _Table, docs: dict[str, Any], ts: datetime) -> list[Reading]:
        primary = self._rows(table.rows, docs)
        if primary is None:
            return []
        out: list[Reading] = []
        for decoder, address, source in table.columns:
            if address.presence:
                out += self._presence(decoder, address, source, docs, primary, ts)
                continue
            rows = self._rows(source, docs) or {}
            assert address.field is not None
            for instance in primary:
                row = rows.get(instance)
                text = None if row is None else self.dialect.cell(row, address.field)
                out += self._decode(decoder, address, text, ts, instance)
        return out

    def _presence(
        self,
        decoder: PointDecoder,
        address: HttpPoint,
        source: _Source,
        docs: dict[str, Any],
        instances: Iterable[str],
        ts: datetime,
    ) -> list[Reading]:
        listed: dict[str, Row] | None = {}  # an error answer lists none
        if not isinstance(docs.get(source.path), HttpErrorAnswer):
            listed = self._rows(source, docs)
        out: list[Reading] = []
        for instance in instances:
            text = None if listed is None else "present" if instance in listed else "absent"
            out += self._decode(decoder, address, text, ts, instance)
        return out

    def _rows(self, source: _Source, docs: dict[str, Any]) -> dict[str, Row] | None:
        doc = docs.get(source.path)
        if doc is None or isinstance(doc, HttpError) or source.row is None:
            return None
        return self.dialect.rows(doc, source.row, source.key)

    def _decode(
        self, decoder: PointDecoder, address: HttpPoint, text: str | None, ts: datetime, inst: str
    ) -> list[Reading]:
        device, name, unit = self.device.id, decoder.name, decoder.point.unit
        if text is None:
            return [Reading(device, name, None, ts, inst, unit, Quality.BAD)]
        try:
            raw = wire_value(decoder.point, address, text, self.zone)
        except ValueError:
            return [Reading(device, name, None, ts, inst, unit, Quality.BAD)]
        if isinstance(raw, _Unknown):
            return [Reading(device, name, f"unknown({raw.word})", ts, inst)]
        return decoder.readings(device, raw, ts, inst)

    # -- failures ---------------------------------------------------------------------

    def _unreachable(self, ts: datetime, exc: HttpError) -> PollResult:
        self.down = True
        self._report(exc.kind, str(exc))
        reading = Reading(self.device.id, "reachable", False, ts)
        return PollResult(self.device.id, ts, False, (reading,), f"{exc.kind}: {exc}"[:500])

    def _refused(self, ts: datetime, started: float, exc: HttpError) -> PollResult:
        self.down = False
        self._report(exc.kind, str(exc))
        access = "auth_failed" if isinstance(exc, HttpAuthError) else "tls_failed"
        readings = (
            Reading(self.device.id, "reachable", True, ts),
            Reading(
                self.device.id,
                "rtt",
                round((time.monotonic() - started) * 1000.0, 3),
                ts,
                unit="ms",
            ),
            Reading(self.device.id, "access", access, ts),
        )
        return PollResult(self.device.id, ts, True, readings, f"{exc.kind}: {exc}"[:500])

    def _settle(self, failed: dict[str, HttpError]) -> None:
        if failed:
            path, exc = next(iter(failed.items()))
            self._report(exc.kind, f"{path}: {exc}")
        elif self.trouble:
            log.info("device=%s reads again over its HTTP API", self.device.id)
            self.trouble = ""

    def _report(self, kind: str, detail: str) -> None:
        """Log a failure when it starts or changes kind, not at every poll."""
        if kind != self.trouble:
            log.warning("device=%s %s: %s", self.device.id, kind, detail[:MAX_TEXT])
            self.trouble = kind


def _sources(
    table: _Table, presence: bool | None = None
) -> Iterable[tuple[HttpPoint | None, _Source]]:
    """The resources a table reads (its rows', its columns'), or only those of its
    presence columns (``presence=True``) or of the others (``False``)."""
    if presence is not True:
        yield None, table.rows
    for _, address, source in table.columns:
        if presence is None or bool(address.presence) == presence:
            yield address, source


def _answered(exc: HttpError) -> bool:
    """Whether the device answered at all (an error status or a bad body)."""
    return isinstance(exc, HttpStatusError | HttpContentError | HttpTooLarge)
