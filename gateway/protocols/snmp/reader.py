"""Poll a device's profile over SNMP: scalars in one GET, tables in one multi-column walk."""

from __future__ import annotations

import dataclasses
import sys
import time
from datetime import UTC, datetime

from drivers.snmp import (
    SnmpClient,
    SnmpError,
    SnmpProtocolError,
    SnmpTarget,
    V3Credentials,
    VarBind,
)
from drivers.snmp.walkstate import value_size
from gateway.config.limits import DEFAULT_LIMITS, Limits
from gateway.config.profile import Profile
from gateway.config.protocols.snmp import snmp_point, snmp_settings
from gateway.config.site import Device
from gateway.config.types import read_secret_file
from gateway.model import Reading
from gateway.poller.decode import PointDecoder
from gateway.poller.rates import CounterRates
from gateway.poller.result import PollResult

MAX_KNOWN_ROWS = 65_536  # row OIDs whose column and instance the readers of a profile remember


def snmp_target(device: Device, limits: Limits = DEFAULT_LIMITS) -> SnmpTarget:
    """The driver's view of a device: address, port, credentials, timeout, budgets."""
    settings = snmp_settings(device)
    if settings is None:  # a device without snmp settings gets the protocol defaults
        return SnmpTarget(
            host=device.address,
            port=device.port or 161,
            max_walk_bytes=limits.walk_bytes,
            max_walk_varbinds=limits.walk_varbinds,
        )
    v3 = None
    if settings.version == "3":
        assert settings.user is not None, "checked at load"
        auth_key = read_secret_file(settings.auth_key_file) if settings.auth_key_file else None
        priv_key = read_secret_file(settings.priv_key_file) if settings.priv_key_file else None
        v3 = V3Credentials(
            user=settings.user,
            auth_protocol=settings.auth or "none",
            auth_key=auth_key.reveal() if auth_key else "",
            priv_protocol=settings.priv or "none",
            priv_key=priv_key.reveal() if priv_key else "",
        )
    return SnmpTarget(
        host=device.address,
        port=device.port or 161,
        version=settings.version,
        community=settings.community.reveal(),
        v3=v3,
        timeout=settings.timeout,
        retries=settings.retries,
        max_walk_bytes=limits.walk_bytes,
        max_walk_varbinds=limits.walk_varbinds,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Column:
    table: str
    name: str  # reading name: "<table>.<column>"
    root: str  # column OID; an instance is the suffix after it
    decoder: PointDecoder


class RowPlaces:
    """Which column of a table walk a row's OID belongs to, and its instance: worked
    out once per OID and shared by the readers of every device walking the same
    columns (the devices of one profile), since the same rows come back at every
    poll of each of them. An OID costs one dictionary entry (the OID text, the
    client's, and its place) per site, not per device; the instances are interned,
    so every reading of a row shares one string."""

    __slots__ = ("_known", "_prefixes")

    def __init__(self, roots: tuple[str, ...]) -> None:
        # Longest roots first, so a column OID that prefixes another never steals its rows.
        order = sorted(range(len(roots)), key=lambda i: len(roots[i]), reverse=True)
        self._prefixes = [(roots[i] + ".", i) for i in order]
        self._known: dict[str, tuple[int, str] | None] = {}

    def __len__(self) -> int:
        return len(self._known)

    def place(self, oid: str) -> tuple[int, str] | None:
        """(column's index in the roots, instance) of a row's OID; None: no column's."""
        known = self._known
        if oid in known:
            return known[oid]
        if len(known) >= MAX_KNOWN_ROWS:  # tables that keep renumbering: start over
            known.clear()
        found = known[oid] = self._place(oid)
        return found

    def _place(self, oid: str) -> tuple[int, str] | None:
        for prefix, index in self._prefixes:
            if oid.startswith(prefix):
                return index, sys.intern(oid[len(prefix) :])
        return None


class SnmpPointReader:
    """Reads one device per poll: one GET of every scalar, one walk of every table column.

    While the device is down, a poll is a single probe (the first scalar, no
    retries): cheap for the site's network and for the gateway, yet it notices the
    device's return at the next tick and then reads everything again.

    What one poll may receive is bounded (``limits.poll_bytes``): the walk gets what
    the GET left of it, or its own budget when that is smaller.
    """

    def __init__(
        self,
        device: Device,
        profile: Profile,
        client: SnmpClient,
        limits: Limits = DEFAULT_LIMITS,
        rates: CounterRates | None = None,
        places: dict[tuple[str, ...], RowPlaces] | None = None,
    ) -> None:
        """``places``: the row placements of every reader of the client, by the roots
        they walk (a reader of its own without)."""
        self.device = device
        self.limits = limits
        self.target = snmp_target(device, limits)
        self.probe_target = dataclasses.replace(self.target, retries=0)
        self.client = client
        self.rates = rates or CounterRates()
        self.scalars = [
            (PointDecoder(name, point), snmp_point(point).oid)
            for name, point in profile.points.items()
        ]
        self.oids = [oid for _, oid in self.scalars if oid is not None]
        self.columns = [
            _Column(table, f"{table}.{col}", oid, PointDecoder(f"{table}.{col}", point))
            for table, spec in profile.tables.items()
            for col, point in spec.columns.items()
            if (oid := snmp_point(point).oid) is not None
        ]
        self.roots = tuple(c.root for c in self.columns)
        shared = None if places is None else places.get(self.roots)
        if shared is None:
            shared = RowPlaces(self.roots)
            if places is not None:
                places[self.roots] = shared
        self._places = shared
        self.down = False

    async def poll(self) -> PollResult:
        ts = datetime.now(UTC)
        started = time.monotonic()
        try:
            if self.down and self.oids:
                await self.client.get(self.probe_target, self.oids[:1])
            scalars = await self.client.get(self.target, self.oids) if self.oids else []
            rows = await self._walk(sum(len(o) + value_size(v) for o, v in scalars))
        except SnmpError as exc:
            if not self.down:
                self.rates.forget()
            self.down = True
            reading = Reading(self.device.id, "reachable", False, ts)
            return PollResult(self.device.id, ts, False, (reading,), f"{type(exc).__name__}: {exc}")
        self.down = False
        now = time.monotonic()
        readings = [
            Reading(self.device.id, "reachable", True, ts),
            Reading(self.device.id, "rtt", round((now - started) * 1000.0, 3), ts, unit="ms"),
        ]
        for (decoder, _), (_, raw) in zip(self.scalars, scalars, strict=False):
            readings += self._decode(decoder, raw, ts, "", now)
        readings += self._table_readings(rows, ts, now)
        return PollResult(self.device.id, ts, True, tuple(readings))

    async def _walk(self, received: int) -> list[VarBind]:
        """Every table column in one walk, within what is left of the poll's bytes."""
        if not self.columns:
            return []
        left = self.limits.poll_bytes - received
        if left <= 0:
            raise SnmpProtocolError(
                f"poll exceeded its budget of {self.limits.poll_bytes} bytes in its GET"
            )
        target = self.target
        if left < target.max_walk_bytes:
            target = dataclasses.replace(target, max_walk_bytes=left)
        return await self.client.walk(target, self.roots)

    def _decode(
        self, decoder: PointDecoder, raw: object, ts: datetime, instance: str, now: float
    ) -> list[Reading]:
        out = decoder.readings(self.device.id, raw, ts, instance)
        if decoder.point.rate and isinstance(raw, int) and not isinstance(raw, bool):
            rate = self.rates.rate(decoder.rate_name, instance, decoder.point.type, raw, now)
            if rate is not None:
                out.append(
                    Reading(
                        self.device.id, decoder.rate_name, rate, ts, instance, decoder.rate_unit
                    )
                )
        return out

    def _table_readings(self, rows: list[VarBind], ts: datetime, now: float) -> list[Reading]:
        readings: list[Reading] = []
        place, columns = self._places.place, self.columns
        for oid, raw in rows:
            found = place(oid)
            if found is not None:
                readings += self._decode(columns[found[0]].decoder, raw, ts, found[1], now)
        return readings
