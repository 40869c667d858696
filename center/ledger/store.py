"""The ledger, synchronous: one connection (SQLite or PostgreSQL, center/ledger/sql.py),
used from the one thread that opened it.

`ingest` stores an event and applies what it can in one transaction (`ingest_many`:
a batch of them), so once it returns the event is durable and the MQTT message may be
acknowledged. Events of a
ticket are applied in ``seq`` order: an early one waits (``applied = 0``) until its
predecessor arrives; `flag_gaps` marks tickets that have waited too long, and nothing
is ever applied past a gap. Applying an event queues one delivery per adapter that
wants it (`Route`).

Several workers may share a PostgreSQL ledger. Each event is stored once whoever takes
it (``event_id`` is unique; a second insert does nothing). A ticket's events are applied
under its row lock, so two workers holding its consecutive events apply them one after
the other, in seq order. A batch takes its tickets' locks in ticket order, so two
batches never wait on each other in a circle; a transaction that still loses to
another (deadlock) is run again. `claim` hands a worker one delivery, locked until it
is recorded as delivered or failed, passing over those other workers hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from center.events import Rejection, TicketEvent
from center.ledger.apply import IngestOutcome, Route, ingest_batch
from center.ledger.sql import Sql
from center.ledger.url import LedgerUrl
from center.replies import Reply


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    adapter: str
    event_id: str
    ticket_id: str
    attempts: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class TicketRow:
    ticket_id: str
    site_id: str
    device_id: str | None
    fault_code: str | None
    severity: int | None
    title: str | None
    state: str  # waiting (no event applied yet) | open | resolved
    applied_seq: int
    waiting_events: int
    gap_flagged: bool
    opened_at: str | None
    updated_at: str | None
    resolved_at: str | None
    response_due: str | None
    onsite_due: str | None
    acknowledged_at: str | None
    arrived_at: str | None
    on_time_response: bool | None
    on_time_onsite: bool | None

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


T = TypeVar("T")
CONFLICT_RETRIES = 10


class Ledger:
    """Tickets, their events, sites and deliveries, on one connection."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql
        self.where = sql.where
        # The delivery this connection holds for each adapter (claim): on PostgreSQL
        # one adapter's loop has the connection to itself; on SQLite every adapter's
        # loop shares the one, each with its own claim.
        self._claimed: dict[str, int] = {}

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> Ledger:
        """Open (creating on first use, unless ``read_only``) the SQLite ledger ``path``."""
        from center.ledger.sqlite import SqliteSql

        return cls(SqliteSql.open(path, read_only=read_only))

    @classmethod
    def connect(cls, url: LedgerUrl, *, read_only: bool = False) -> Ledger:
        """The ledger at ``url``: an SQLite file is opened now; a PostgreSQL connection
        is made at the first call (and again after it broke)."""
        if url.engine == "sqlite":
            return cls.open(url.path, read_only=read_only)
        from center.ledger.postgres import PgSql

        return cls(PgSql(url))

    def close(self) -> None:
        self._sql.close()

    def _write(self, work: Callable[[Sql], T]) -> T:
        """``work`` in one transaction, run again when it crossed another worker's."""
        for attempt in range(CONFLICT_RETRIES):
            try:
                with self._sql.transaction():
                    return work(self._sql)
            except Exception as exc:
                if attempt == CONFLICT_RETRIES - 1 or not self._sql.is_conflict(exc):
                    raise
        raise AssertionError("unreachable")

    # -- ingest -----------------------------------------------------------------------

    def ingest(
        self, item: TicketEvent | Rejection, now: float, routes: Sequence[Route] = ()
    ) -> IngestOutcome:
        return self.ingest_many([item], now, routes)[0]

    def ingest_many(
        self, items: Sequence[TicketEvent | Rejection], now: float, routes: Sequence[Route] = ()
    ) -> list[IngestOutcome]:
        """Store and apply ``items`` in one transaction; each one's outcome, in order."""

        return self._write(lambda sql: ingest_batch(sql, items, now, routes))

    def flag_gaps(self, now: float, gap_after: float) -> list[tuple[str, int]]:
        """Tickets whose next event has been missing over ``gap_after`` seconds while a
        later one waits: flagged once; returns (ticket, missing seq) of the new ones."""

        def work(sql: Sql) -> list[tuple[str, int]]:
            rows = sql.execute(
                "SELECT t.ticket_id, t.applied_seq + 1 FROM tickets t"
                " WHERE t.gap_flagged_at IS NULL AND EXISTS (SELECT 1 FROM events e"
                "  WHERE e.ticket_id = t.ticket_id AND e.applied = 0 AND e.received_at <= ?)"
                " ORDER BY t.ticket_id",
                (now - gap_after,),
            ).fetchall()
            flagged = []
            for ticket_id, missing in rows:
                # Another worker may have flagged it (or applied the missing event) since.
                if sql.execute(
                    "UPDATE tickets SET gap_flagged_at = ? WHERE ticket_id = ?"
                    " AND gap_flagged_at IS NULL AND applied_seq + 1 = ?",
                    (now, ticket_id, missing),
                ).rowcount:
                    flagged.append((str(ticket_id), int(missing)))
            return flagged

        return self._write(work)

    # -- sites ------------------------------------------------------------------------

    def record_status(self, site_id: str, status: dict[str, Any], now: float) -> None:
        """The site's last status. ``since`` moves only when it goes online or offline;
        an offline status (the Last Will) keeps the version and backlog last known."""
        self.record_statuses([(site_id, status)], now)

    def record_statuses(self, statuses: Sequence[tuple[str, dict[str, Any]]], now: float) -> None:
        """Sites' statuses in one transaction, each site's in the order given."""

        def work(sql: Sql) -> None:
            # Row locks in one order, as tickets' are (sorted keeps a site's own order).
            for site_id, status in sorted(statuses, key=lambda pair: pair[0]):
                _status(sql, site_id, status, now)

        self._write(work)

    def sites(self) -> list[dict[str, Any]]:
        """Each site's last status: online, since when, version, backlog, and the time
        and text of its last status, with how many replies the gateway refused."""
        rows = self._sql.execute(
            "SELECT s.site_id, s.online, s.since, s.version, s.backlog, s.updated_at, s.status,"
            " (SELECT count(*) FROM replies r WHERE r.site_id = s.site_id AND r.ok = 0)"
            " FROM sites s ORDER BY s.site_id"
        ).fetchall()
        return [
            {"site": site, "online": bool(online), "since": since, "version": version,
             "backlog": json.loads(backlog) if backlog else None, "updated_at": updated,
             "status": json.loads(status), "refused_replies": refused}
            for site, online, since, version, backlog, updated, status, refused in rows
        ]  # fmt: skip

    def record_health(self, site_id: str, document: dict[str, Any], now: float) -> None:
        """The site's last ``health`` document (the one before is replaced)."""
        self._write(
            lambda sql: sql.execute(
                "INSERT INTO health (site_id, document, received_at) VALUES (?, ?, ?)"
                " ON CONFLICT (site_id) DO UPDATE SET document = excluded.document,"
                " received_at = excluded.received_at",
                (site_id, json.dumps(document), now),
            )
        )

    def health(self, site_id: str) -> tuple[dict[str, Any], float] | None:
        """The site's last ``health`` document and when it came; None before the first."""
        row = self._sql.execute(
            "SELECT document, received_at FROM health WHERE site_id = ?", (site_id,)
        ).fetchone()
        return None if row is None else (json.loads(row[0]), float(row[1]))

    def record_reply(self, reply: Reply, now: float) -> bool:
        """Keep a gateway's reply once; False when the same message was kept already."""
        return self._write(
            lambda sql: sql.execute(
                "INSERT INTO replies (reply_key, site_id, topic_kind, request_id, ticket_id, ok,"
                " error, payload, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (reply_key) DO NOTHING",
                (reply.key, reply.site_id, reply.topic_kind, reply.request_id, reply.ticket_id,
                 int(reply.ok), reply.error, reply.payload, now),
            ).rowcount == 1
        )  # fmt: skip

    def reply_to(self, request_id: str) -> dict[str, Any] | None:
        """The gateway's reply to the message sent with ``request_id``, once it came."""
        row = self._sql.execute(
            "SELECT payload FROM replies WHERE request_id = ? ORDER BY received_at LIMIT 1",
            (request_id,),
        ).fetchone()
        if row is None:
            return None
        body: dict[str, Any] = json.loads(row[0])
        return body

    def replies(self, site: str | None = None) -> list[dict[str, Any]]:
        """The replies kept, oldest first (of ``site`` only, when given)."""
        clause, args = ("WHERE site_id = ?", [site]) if site is not None else ("", [])
        rows = self._sql.execute(
            "SELECT site_id, topic_kind, request_id, ticket_id, ok, error, received_at"
            f" FROM replies {clause} ORDER BY received_at, reply_key",
            args,
        ).fetchall()
        names = ("site", "answers", "request_id", "ticket_id", "ok", "error", "received_at")
        return [dict(zip(names, row, strict=True)) | {"ok": bool(row[4])} for row in rows]

    def locate_ticket(self, ticket_id: str) -> tuple[str, str] | None:
        """The site a ticket in the ledger belongs to, and its state (waiting, open,
        resolved); None when the ledger has no such ticket."""
        row = self._sql.execute(
            "SELECT site_id, state FROM tickets WHERE ticket_id = ?", (ticket_id,)
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    # -- deliveries -------------------------------------------------------------------

    def due(self, adapter: str, now: float, limit: int = 50) -> list[Delivery]:
        """The adapter's deliveries to attempt now: for each ticket only its first
        pending one, so a ticket's events go out in order (a dead one no longer holds
        the next back). Nothing is claimed: see `claim` for what several workers do."""
        rows = self._sql.execute(
            _DUE + " ORDER BY d.next_attempt_at, d.id LIMIT ?", (adapter, now, limit)
        ).fetchall()
        return [Delivery(*row) for row in rows]

    def claim(self, adapter: str, now: float) -> Delivery | None:
        """The adapter's next delivery to attempt, held by this connection until
        `delivered`, `failed` or `release`: on PostgreSQL its row stays locked in a
        transaction, so no other worker takes it, nor (being the ticket's first pending
        one) the ticket's next; a worker that dies lets it go with its connection."""
        if adapter in self._claimed:
            raise RuntimeError(f"delivery {self._claimed[adapter]} is still claimed")
        self._sql.begin()
        try:
            row = self._sql.execute(
                _DUE + " ORDER BY d.next_attempt_at, d.id LIMIT 1" + self._sql.dialect.skip_locked,
                (adapter, now),
            ).fetchone()
        except BaseException:
            self._sql.rollback()
            raise
        if row is None:
            self._sql.rollback()
            return None
        delivery = Delivery(*row)
        self._claimed[adapter] = delivery.id
        return delivery

    def release(self) -> None:
        """Let the claimed delivery go unrecorded (it is due again at once)."""
        if self._claimed:
            self._claimed.clear()
            self._sql.rollback()

    def _record(
        self, delivery_id: int, statement: str, args: Sequence[Any], finished: bool
    ) -> None:
        """The attempt's outcome; a ``finished`` delivery (delivered, dead) hands its
        ticket's head to the ticket's next pending one."""

        def work(sql: Sql) -> None:
            sql.execute(statement, args)
            if finished:
                _next_head(sql, delivery_id)

        held = [adapter for adapter, held in self._claimed.items() if held == delivery_id]
        if held:
            del self._claimed[held[0]]
            try:
                work(self._sql)
            except BaseException:
                self._sql.rollback()
                raise
            self._sql.commit()
            return
        self._write(work)

    def next_due_at(self, adapter: str) -> float | None:
        row = self._sql.execute(
            "SELECT min(next_attempt_at) FROM deliveries"
            " WHERE adapter = ? AND state = 'pending' AND head = 1",
            (adapter,),
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def delivered(self, delivery_id: int, now: float) -> None:
        self._record(
            delivery_id,
            "UPDATE deliveries SET state = 'delivered', delivered_at = ?,"
            " attempts = attempts + 1, last_error = NULL WHERE id = ?",
            (now, delivery_id),
            finished=True,
        )

    def failed(self, delivery_id: int, error: str, retry_at: float | None) -> None:
        """One more failed attempt; ``retry_at`` None dead-letters it."""
        state = "pending" if retry_at is not None else "dead"
        self._record(
            delivery_id,
            "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = ?,"
            " next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ?",
            (state, error[:500], retry_at, delivery_id),
            finished=retry_at is None,
        )

    def open_delivered(self, adapter: str) -> list[Delivery]:
        """For each ticket still open, the last event delivered to ``adapter``, while
        the ticket's level is still that event's: what a tool that forgets open alerts
        unless they are sent again (Alertmanager) is sent again."""
        rows = self._sql.execute(
            "SELECT d.id, d.adapter, d.event_id, d.ticket_id, d.attempts, e.payload"
            " FROM tickets t JOIN deliveries d ON d.id = (SELECT max(x.id) FROM deliveries x"
            "  WHERE x.adapter = ? AND x.ticket_id = t.ticket_id AND x.state = 'delivered')"
            " JOIN events e ON e.event_id = d.event_id"
            " WHERE t.state = 'open' AND t.severity = e.severity ORDER BY d.id",
            (adapter,),
        ).fetchall()
        return [Delivery(*row) for row in rows]

    def ticket_deliveries(self) -> dict[str, dict[str, dict[str, int]]]:
        """Per ticket, per adapter: how many of its deliveries are in each state."""
        found: dict[str, dict[str, dict[str, int]]] = {}
        for ticket_id, adapter, state, n in self._sql.execute(
            "SELECT ticket_id, adapter, state, count(*) FROM deliveries"
            " GROUP BY ticket_id, adapter, state"
        ):
            found.setdefault(ticket_id, {}).setdefault(adapter, {})[state] = n
        return found

    def delivery_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for adapter, state, n in self._sql.execute(
            "SELECT adapter, state, count(*) FROM deliveries GROUP BY adapter, state"
        ):
            counts.setdefault(adapter, {})[state] = n
        return counts

    # -- reading ----------------------------------------------------------------------

    def tickets(self, open_only: bool = False, site: str | None = None) -> list[TicketRow]:
        where, args = [], []
        if open_only:
            where.append("t.state != 'resolved'")
        if site is not None:
            where.append("t.site_id = ?")
            args.append(site)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._sql.execute(
            "SELECT t.ticket_id, t.site_id, t.device_id, t.fault_code, t.severity, t.title,"
            " t.state, t.applied_seq, (SELECT count(*) FROM events e WHERE"
            " e.ticket_id = t.ticket_id AND e.applied = 0), t.gap_flagged_at IS NOT NULL,"
            " t.opened_at, t.updated_at, t.resolved_at, t.response_due, t.onsite_due,"
            " t.acknowledged_at, t.arrived_at, t.on_time_response, t.on_time_onsite"
            f" FROM tickets t {clause}"
            " ORDER BY t.site_id, t.opened_at IS NOT NULL, t.opened_at, t.ticket_id",
            args,
        ).fetchall()
        names = list(TicketRow.__dataclass_fields__)
        tickets = []
        for row in rows:
            values = dict(zip(names, row, strict=True))
            values["gap_flagged"] = bool(values["gap_flagged"])
            values["on_time_response"] = _bool(values["on_time_response"])
            values["on_time_onsite"] = _bool(values["on_time_onsite"])
            tickets.append(TicketRow(**values))
        return tickets

    def last_events(
        self, open_only: bool = False, site: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Each ticket's last applied event as published (its site, customer, contract,
        device and clocks), by ticket id: what the web app shows beyond the row."""
        where, args = ["e.seq = t.applied_seq"], []
        if open_only:
            where.append("t.state != 'resolved'")
        if site is not None:
            where.append("t.site_id = ?")
            args.append(site)
        rows = self._sql.execute(
            "SELECT t.ticket_id, e.payload FROM tickets t JOIN events e"
            f" ON e.ticket_id = t.ticket_id WHERE {' AND '.join(where)}",
            args,
        ).fetchall()
        return {str(ticket): json.loads(bytes(payload)) for ticket, payload in rows}

    def rejected(self) -> list[tuple[str, str | None, str]]:
        """(topic, event_id, reason) of every rejected message, oldest first."""
        return list(self._sql.execute("SELECT topic, event_id, reason FROM rejected ORDER BY id"))

    def event_ids(self, ticket_id: str) -> list[tuple[str, int, bool]]:
        return [
            (e, s, bool(a))
            for e, s, a in self._sql.execute(
                "SELECT event_id, seq, applied FROM events WHERE ticket_id = ? ORDER BY seq",
                (ticket_id,),
            )
        ]


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _int(value: bool | None) -> int | None:
    return None if value is None else int(value)


# The deliveries that may be attempted now: per ticket only its first pending one.
# The deliveries that may be attempted now: heads (per ticket and adapter its first
# pending one), through the deliveries_heads index, oldest due first.
_DUE = (
    "SELECT d.id, d.adapter, d.event_id, d.ticket_id, d.attempts, e.payload"
    " FROM deliveries d JOIN events e ON e.event_id = d.event_id"
    " WHERE d.adapter = ? AND d.state = 'pending' AND d.head = 1 AND d.next_attempt_at <= ?"
)

_OLDEST = " ORDER BY d.next_attempt_at, d.id"


def _next_head(sql: Sql, finished: int) -> None:
    """The ticket's next pending delivery to the adapter becomes its head. The ticket's
    row is locked first: a worker applying the ticket's next event (which decides
    whether its delivery is a head) holds it, so one of the two sees the other's."""
    row = sql.execute("SELECT adapter, ticket_id FROM deliveries WHERE id = ?", (finished,))
    adapter, ticket_id = row.fetchone()
    sql.execute("SELECT 1 FROM tickets WHERE ticket_id = ?" + sql.dialect.lock_row, (ticket_id,))
    sql.execute(
        "UPDATE deliveries SET head = 1 WHERE id = (SELECT min(p.id) FROM deliveries p"
        " WHERE p.adapter = ? AND p.ticket_id = ? AND p.state = 'pending')",
        (adapter, ticket_id),
    )


def _status(sql: Sql, site_id: str, status: dict[str, Any], now: float) -> None:
    backlog = status.get("backlog")
    version = status.get("version")
    sql.execute(
        "INSERT INTO sites (site_id, online, version, backlog, status, updated_at, since)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_id) DO UPDATE SET"
        " since = CASE WHEN sites.online = excluded.online THEN sites.since"
        "  ELSE excluded.since END,"
        " online = excluded.online,"
        " version = coalesce(excluded.version, sites.version),"
        " backlog = coalesce(excluded.backlog, sites.backlog),"
        " status = excluded.status, updated_at = excluded.updated_at",
        (site_id, int(status.get("state") == "online"),
         version if isinstance(version, str) else None,
         json.dumps(backlog) if isinstance(backlog, dict) else None,
         json.dumps(status), now, now),
    )  # fmt: skip
