"""Poll a PBX's profile over AMI: each action the profile names is sent once per poll
on the PBX's open manager session, and every point and table column is found in its
answer and decoded through the profile.

What can go wrong is classified, logged once when it starts (and once when it ends),
and never stops the polling:

- no connection, no answer in time, the session dropped, a peer that does not speak
  AMI: the PBX is unreachable (``reachable`` False); the session's backoff decides
  when the next connection is tried, so a poll meanwhile costs nothing;
- the account or the certificate refused: the PBX answers but cannot be read;
  ``access`` says why (``auth_failed``, ``tls_failed``) and the profile's rule opens a
  ticket for it;
- an action refused (``Permission denied``: the account's ``write`` classes; or
  ``Invalid/unknown command``: chan_sip's actions on a PBX without it): the points of
  that action are read as bad values and a table has no rows from it; the others as
  usual. A missing channel driver is normal and logged at debug level only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from drivers.ami import (
    LIST_ROWS,
    AmiActionError,
    AmiAnswer,
    AmiAuthError,
    AmiError,
    AmiSession,
    AmiTlsError,
    Message,
)
from gateway.config.profile import Profile
from gateway.config.protocols.ami import AmiPoint, AmiSource, ami_point, ami_rows
from gateway.config.site import Device
from gateway.model import Quality, Reading
from gateway.poller.decode import PointDecoder
from gateway.poller.rates import CounterRates
from gateway.poller.result import PollResult

log = logging.getLogger("lvgw.ami")

MAX_TEXT = 200  # characters of a PBX's word kept in a reading or a log line
Answers = dict[str, AmiAnswer | AmiActionError]  # by action, this poll's


@dataclass(frozen=True, slots=True)
class _Scalar:
    decoder: PointDecoder
    address: AmiPoint
    action: str


@dataclass(frozen=True, slots=True)
class _Table:
    sources: tuple[AmiSource, ...]
    columns: tuple[tuple[PointDecoder, AmiPoint], ...]


@dataclass(frozen=True, slots=True)
class _Unknown:
    word: str


def wire_value(
    point_type: str, address: AmiPoint, text: str, zone: tzinfo | None, now: float
) -> object:
    """A PBX's word -> the raw value the point's decoder takes; ``ValueError`` when it
    is none. Codes match the whole word, else the word before a round trip in
    parentheses (chan_sip's ``OK (23 ms)``)."""
    if address.codes is not None:
        if text in address.codes:
            return address.codes[text]
        head = text.split(" (", 1)[0]
        return address.codes[head] if head in address.codes else _Unknown(text[:MAX_TEXT])
    if point_type in ("int", "counter32"):
        return int(text)
    if point_type == "float":
        return float(text)
    if point_type == "age":
        local = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        moment = local.replace(tzinfo=zone) if zone is not None else local.astimezone()
        return max(0.0, round(now - moment.timestamp(), 3))
    return text[:MAX_TEXT]


class AmiReader:
    """Reads one PBX per poll through its manager session."""

    def __init__(
        self, device: Device, profile: Profile, session: AmiSession, zone: tzinfo | None
    ) -> None:
        self.device = device
        self.session = session
        self.zone = zone
        self.rates = CounterRates()
        self.scalars: list[_Scalar] = []
        for name, point in profile.points.items():
            address = ami_point(point)
            if address.action is None:
                raise ValueError(f"point {name}: an AMI scalar needs an action")
            self.scalars.append(_Scalar(PointDecoder(name, point), address, address.action))
        self.tables: list[_Table] = []
        for table_name, spec in profile.tables.items():
            sources = ami_rows(spec).sources
            assert sources, "checked at load"
            columns = tuple(
                (PointDecoder(f"{table_name}.{column}", point), ami_point(point))
                for column, point in spec.columns.items()
            )
            self.tables.append(_Table(tuple(sources), columns))
        self.actions = list(dict.fromkeys(self._actions()))
        self.down = False
        self.trouble = ""  # the kind of failure last logged, "" while all is well
        self.refused: dict[str, str] = {}  # action -> why the PBX refused it, logged once

    def _actions(self) -> Iterable[str]:
        for scalar in self.scalars:
            yield scalar.action
        for table in self.tables:
            for source in table.sources:
                yield source.action

    # -- one poll -------------------------------------------------------------------

    async def poll(self) -> PollResult:
        ts = datetime.now(UTC)
        started = time.monotonic()
        answers: Answers = {}
        for action in self.actions:
            try:
                answers[action] = await self.session.action(action)
            except AmiActionError as exc:
                answers[action] = exc
            except (AmiAuthError, AmiTlsError) as exc:
                return self._refused(ts, started, exc)
            except AmiError as exc:
                return self._unreachable(ts, exc)
        if self.trouble:
            log.info("device=%s reads again over AMI", self.device.id)
            self.trouble = ""
        self.down = False
        now = time.monotonic()
        readings = [
            Reading(self.device.id, "reachable", True, ts),
            Reading(self.device.id, "rtt", round((now - started) * 1000.0, 3), ts, unit="ms"),
            Reading(self.device.id, "access", "ok", ts),
        ]
        for scalar in self.scalars:
            readings += self._decode(
                scalar.decoder, scalar.address, self._scalar(scalar, answers), ts, "", now
            )
        for table in self.tables:
            readings += self._table(table, answers, ts, now)
        self._note_refusals(answers)
        return PollResult(self.device.id, ts, True, tuple(readings))

    def _scalar(
        self, scalar: _Scalar, answers: dict[str, AmiAnswer | AmiActionError]
    ) -> str | None:
        answer = answers.get(scalar.action)
        field = scalar.address.field
        if not isinstance(answer, AmiAnswer) or field is None:
            return None
        if scalar.address.distinct:
            rows = answer.rows(LIST_ROWS[scalar.action])
            return str(len({v for row in rows if (v := row.get(field))}))
        text = answer.response.get(field)
        if text is None and answer.complete is not None:
            text = answer.complete.get(field)
        if text is not None and scalar.address.time_field is not None:
            clock = answer.response.get(scalar.address.time_field)
            text = None if clock is None else f"{text} {clock}"
        return text

    def _table(
        self,
        table: _Table,
        answers: dict[str, AmiAnswer | AmiActionError],
        ts: datetime,
        now: float,
    ) -> list[Reading]:
        out: list[Reading] = []
        for source in table.sources:
            answer = answers.get(source.action)
            if not isinstance(answer, AmiAnswer):
                continue
            for row in _matching(answer.rows(LIST_ROWS[source.action]), source):
                instance = (row.get(source.key) or "")[:MAX_TEXT]
                if not instance:
                    continue
                for decoder, address in table.columns:
                    text = row.get(address.field) if address.field else None
                    out += self._decode(decoder, address, text, ts, instance, now)
        return out

    def _decode(
        self,
        decoder: PointDecoder,
        address: AmiPoint,
        text: str | None,
        ts: datetime,
        instance: str,
        now: float,
    ) -> list[Reading]:
        device, name, unit = self.device.id, decoder.name, decoder.point.unit
        if text is None:
            return [Reading(device, name, None, ts, instance, unit, Quality.BAD)]
        try:
            raw = wire_value(decoder.point.type, address, text.strip(), self.zone, ts.timestamp())
        except ValueError:
            return [Reading(device, name, None, ts, instance, unit, Quality.BAD)]
        if isinstance(raw, _Unknown):
            return [Reading(device, name, f"unknown({raw.word})", ts, instance)]
        out = decoder.readings(device, raw, ts, instance)
        if decoder.point.rate and isinstance(raw, int):
            rate = self.rates.rate(name, instance, decoder.point.type, raw, now)
            if rate is not None:
                per = f"{unit}/s" if unit else "/s"
                out.append(Reading(device, f"{name}.rate", rate, ts, instance, per))
        return out

    # -- failures ---------------------------------------------------------------------

    def _unreachable(self, ts: datetime, exc: AmiError) -> PollResult:
        if not self.down:
            self.rates.forget()
        self.down = True
        self._report(exc.kind, str(exc))
        reading = Reading(self.device.id, "reachable", False, ts)
        return PollResult(self.device.id, ts, False, (reading,), f"{exc.kind}: {exc}"[:500])

    def _refused(self, ts: datetime, started: float, exc: AmiError) -> PollResult:
        self.down = False
        self._report(exc.kind, str(exc))
        access = "auth_failed" if isinstance(exc, AmiAuthError) else "tls_failed"
        rtt = round((time.monotonic() - started) * 1000.0, 3)
        readings = (
            Reading(self.device.id, "reachable", True, ts),
            Reading(self.device.id, "rtt", rtt, ts, unit="ms"),
            Reading(self.device.id, "access", access, ts),
        )
        return PollResult(self.device.id, ts, True, readings, f"{exc.kind}: {exc}"[:500])

    def _note_refusals(self, answers: Answers) -> None:
        for action, answer in answers.items():
            if not isinstance(answer, AmiActionError):
                self.refused.pop(action, None)
            elif self.refused.get(action) != answer.message:
                self.refused[action] = answer.message
                level = logging.DEBUG if answer.unknown_action else logging.WARNING
                log.log(level, "device=%s %s refused: %s", self.device.id, action,
                        answer.message[:MAX_TEXT])  # fmt: skip

    def _report(self, kind: str, detail: str) -> None:
        """Log a failure when it starts or changes kind, not at every poll."""
        if kind != self.trouble:
            log.warning("device=%s %s: %s", self.device.id, kind, detail[:MAX_TEXT])
            self.trouble = kind


def _matching(rows: list[Message], source: AmiSource) -> list[Message]:
    return [row for row in rows if all(row.get(k) == v for k, v in source.where.items())]
