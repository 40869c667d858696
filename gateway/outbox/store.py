"""The outbox's storage: a synchronous SQLite store owned by one thread.

Every method runs in the thread that opened the store (the `Outbox`'s worker); the
in-memory tallies are only a cache of what the file says, rebuilt on open, so a
process killed at any point leaves nothing behind but the file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.outbox.errors import OutboxCorruptError, is_disk_full, translate
from gateway.outbox.messages import (
    DEFAULT_BUDGETS,
    PRIORITY,
    Backlog,
    ClassBudget,
    DeliveryFailure,
    Dropped,
    MessageClass,
    OutboxMessage,
    OutboxStats,
    StoredMessage,
)
from gateway.outbox.schema import connect
from gateway.sqlite import Database, Synchronous

# Classes that may lose their oldest messages to a budget or a full disk, first to go first.
DROPPABLE: tuple[MessageClass, ...] = (MessageClass.METRIC, MessageClass.CONTROL)

# Free pages are given back to the file system once at least this much is free and
# either nothing is waiting or over half the file is free; see docs/outbox.md.
COMPACT_MIN_BYTES = 4 * 1024 * 1024

_ACK_CHUNK = 500  # ids per DELETE statement, far below SQLite's variable limit
_MAX_ERROR_TEXT = 500
_EVICT_MIN_PAGES = 16  # on a full disk, free at least this much metric data at once

# Records to write beside a batch of messages: key -> body, None deletes the key.
Records = Mapping[str, str | None]

_SELECT_PENDING = (
    "SELECT id, topic, payload, qos, retain, created_at, attempts, last_error"
    " FROM messages WHERE class = ? AND id > ? ORDER BY id LIMIT ?"
)


@dataclass(slots=True)
class _Tally:
    messages: int = 0
    bytes: int = 0

    def add(self, messages: int, size: int) -> None:
        self.messages += messages
        self.bytes += size


class _Changes:
    """What one transaction did per class, applied to the tallies only once it commits."""

    def __init__(self) -> None:
        self.stored: dict[MessageClass, _Tally] = {}
        self.dropped: dict[MessageClass, _Tally] = {}

    def store(self, cls: MessageClass, messages: int, size: int) -> None:
        self.stored.setdefault(cls, _Tally()).add(messages, size)

    def drop(self, cls: MessageClass, messages: int, size: int) -> None:
        self.store(cls, -messages, -size)
        self.dropped.setdefault(cls, _Tally()).add(messages, size)


class OutboxStore:
    """Messages in a SQLite file: ordered by id, handed out by class priority."""

    def __init__(
        self,
        db: Database,
        path: Path,
        budgets: Mapping[MessageClass, ClassBudget],
        clock: Callable[[], float],
        compact_min_bytes: int,
    ) -> None:
        self._db = db
        self._conn = db.conn
        self.path = path
        self._budgets = dict(budgets)
        self._clock = clock
        self._compact_min_bytes = compact_min_bytes
        self._backlog = {cls: _Tally() for cls in MessageClass}
        self._dropped = {cls: _Tally() for cls in MessageClass}
        self.commits = 0  # transactions committed: shows how many puts shared one

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        budgets: Mapping[MessageClass, ClassBudget] = DEFAULT_BUDGETS,
        max_db_bytes: int | None = None,
        clock: Callable[[], float] = time.time,
        compact_min_bytes: int = COMPACT_MIN_BYTES,
    ) -> OutboxStore:
        check_budgets(budgets)
        db = connect(path, max_db_bytes)
        store = cls(db, path, budgets, clock, compact_min_bytes)
        try:
            store._load_tallies()
        except BaseException:
            db.close()
            raise
        return store

    def close(self) -> None:
        with self._errors("close the outbox"):
            self._db.close()

    # -- writing ------------------------------------------------------------------

    def insert(
        self, messages: Sequence[OutboxMessage], records: Sequence[Records] = ()
    ) -> list[int]:
        """Store ``messages`` and apply ``records`` (in order) in one transaction;
        the messages' ids, in order.

        Fsynced before returning when any message is a ticket event or records
        change. On a full disk, the oldest droppable messages make room once; if that
        is not enough, nothing is stored and `OutboxFullError` is raised.
        """
        try:
            return self._insert(messages, records)
        except sqlite3.Error as exc:
            if not is_disk_full(exc):
                raise translate(exc, self.path, "store messages") from exc
            full = exc
        try:
            made_room = self._evict_for_room(sum(m.size for m in messages))
        except sqlite3.Error as exc:
            raise translate(full, self.path, "store messages") from exc
        if not made_room:
            raise translate(full, self.path, "store messages") from full
        with self._errors("store messages"):
            return self._insert(messages, records)

    def records(self, prefix: str) -> dict[str, str]:
        """The records whose key starts with ``prefix``."""
        with self._errors("read records"):
            rows = self._conn.execute(
                "SELECT key, body FROM records WHERE substr(key, 1, ?) = ? ORDER BY key",
                (len(prefix), prefix),
            ).fetchall()
        return {str(key): str(body) for key, body in rows}

    def ack(self, ids: Iterable[int]) -> int:
        """Delete delivered messages; how many of ``ids`` were still stored."""
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        changes = _Changes()
        # An acknowledgement lost to a power cut only means a duplicate delivery: NORMAL.
        with self._errors("delete delivered messages"), self._transaction(changes, "NORMAL"):
            for start in range(0, len(wanted), _ACK_CHUNK):
                chunk = wanted[start : start + _ACK_CHUNK]
                marks = ",".join("?" * len(chunk))
                deleted = self._conn.execute(
                    f"DELETE FROM messages WHERE id IN ({marks}) RETURNING class, size", chunk
                ).fetchall()
                for cls_name, size in deleted:
                    changes.store(MessageClass(cls_name), -1, -size)
        with self._errors("compact the outbox"):
            self._maybe_compact()
        return -sum(t.messages for t in changes.stored.values())

    def fail(self, message_id: int, error: str) -> bool:
        """Record a refused delivery; the message keeps its place. False if it is gone."""
        with self._errors("record a delivery failure"), self._transaction(_Changes(), "NORMAL"):
            cur = self._conn.execute(
                "UPDATE messages SET attempts = attempts + 1, last_error = ?, failed_at = ?"
                " WHERE id = ?",
                (error[:_MAX_ERROR_TEXT], self._clock(), message_id),
            )
            return cur.rowcount == 1

    # -- reading ------------------------------------------------------------------

    def pending(
        self, limit: int, classes: Collection[MessageClass] = PRIORITY, after_id: int = 0
    ) -> list[StoredMessage]:
        """Up to ``limit`` waiting messages with ids above ``after_id``: by class
        priority (tickets first), oldest first within a class."""
        found: list[StoredMessage] = []
        with self._errors("read waiting messages"):
            for cls in PRIORITY:
                room = limit - len(found)
                if room <= 0:
                    break
                if cls not in classes or not self._backlog[cls].messages:
                    continue
                rows = self._conn.execute(_SELECT_PENDING, (cls.value, after_id, room))
                found.extend(
                    StoredMessage(
                        id=row[0],
                        message_class=cls,
                        topic=row[1],
                        payload=row[2],
                        qos=row[3],
                        retain=bool(row[4]),
                        created_at=row[5],
                        attempts=row[6],
                        last_error=row[7],
                    )
                    for row in rows
                )
        return found

    def has_pending(self, classes: Collection[MessageClass] = PRIORITY, after_id: int = 0) -> bool:
        wanted = [cls.value for cls in classes if self._backlog[cls].messages]
        if not wanted:
            return False
        marks = ",".join("?" * len(wanted))
        with self._errors("read waiting messages"):
            row = self._conn.execute(
                f"SELECT 1 FROM messages WHERE class IN ({marks}) AND id > ? LIMIT 1",
                (*wanted, after_id),
            ).fetchone()
        return row is not None

    def stats(self) -> OutboxStats:
        now = self._clock()
        with self._errors("read statistics"):
            backlog = {cls: self._class_backlog(cls, now) for cls in PRIORITY}
            failing = self._conn.execute(
                "SELECT count(*) FROM messages WHERE failed_at IS NOT NULL"
            ).fetchone()[0]
            row = self._conn.execute(
                "SELECT id, class, topic, attempts, last_error, failed_at FROM messages"
                " WHERE failed_at IS NOT NULL ORDER BY failed_at DESC, id LIMIT 1"
            ).fetchone()
        last = None if row is None else DeliveryFailure(row[0], MessageClass(row[1]), *row[2:])
        return OutboxStats(
            backlog=backlog,
            dropped={cls: Dropped(t.messages, t.bytes) for cls, t in self._dropped.items()},
            failing=failing,
            last_failure=last,
            disk_bytes=self._disk_bytes(),
        )

    # -- internals ----------------------------------------------------------------

    def _insert(self, messages: Sequence[OutboxMessage], records: Sequence[Records]) -> list[int]:
        durable = bool(records) or any(m.message_class is MessageClass.TICKET for m in messages)
        now = self._clock()
        changes = _Changes()
        ids: list[int] = []
        with self._transaction(changes, "FULL" if durable else "NORMAL"):
            for change in records:
                self._write_records(change)
            for m in messages:
                cur = self._conn.execute(
                    "INSERT INTO messages (class, topic, payload, qos, retain, size, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (m.message_class.value, m.topic, m.payload, m.qos, m.retain, m.size, now),
                )
                assert cur.lastrowid is not None
                ids.append(cur.lastrowid)
                changes.store(m.message_class, 1, m.size)
            for cls in changes.stored.keys() & self._budgets.keys():
                self._drop_over_budget(cls, changes)
        return ids

    def _write_records(self, change: Records) -> None:
        written = [(key, body) for key, body in change.items() if body is not None]
        gone = [(key,) for key, body in change.items() if body is None]
        if written:
            self._conn.executemany(
                "INSERT INTO records (key, body) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET body = excluded.body",
                written,
            )
        if gone:
            self._conn.executemany("DELETE FROM records WHERE key = ?", gone)

    def _drop_over_budget(self, cls: MessageClass, changes: _Changes) -> None:
        budget = self._budgets[cls]
        added = changes.stored[cls]
        messages = self._backlog[cls].messages + added.messages
        size = self._backlog[cls].bytes + added.bytes
        if not budget.exceeded(messages, size):
            return
        excess_messages = messages - (budget.max_messages or messages)
        excess_bytes = size - (budget.max_bytes or size)
        self._drop_oldest(cls, excess_messages, excess_bytes, changes)

    def _drop_oldest(
        self, cls: MessageClass, min_messages: int, min_bytes: int, changes: _Changes
    ) -> None:
        """Delete the oldest of ``cls`` until both minimums are met (or none are left)."""
        count = size = 0
        last_id: int | None = None
        cur = self._conn.execute(
            "SELECT id, size FROM messages WHERE class = ? ORDER BY id", (cls.value,)
        )
        for row_id, row_size in cur:
            if count >= min_messages and size >= min_bytes:
                break
            count, size, last_id = count + 1, size + row_size, row_id
        cur.close()
        if last_id is None:
            return
        self._conn.execute("DELETE FROM messages WHERE class = ? AND id <= ?", (cls.value, last_id))
        self._conn.execute(
            "INSERT INTO dropped (class, messages, bytes) VALUES (?, ?, ?)"
            " ON CONFLICT (class) DO UPDATE SET"
            " messages = messages + excluded.messages, bytes = bytes + excluded.bytes",
            (cls.value, count, size),
        )
        changes.drop(cls, count, size)

    def _evict_for_room(self, needed: int) -> bool:
        """After a full-disk error: drop the oldest droppable messages. True if any went."""
        page_size = self._pragma_int("page_size")
        target = max(4 * needed, _EVICT_MIN_PAGES * page_size)
        changes = _Changes()
        with self._transaction(changes, "NORMAL"):
            for cls in DROPPABLE:
                freed = sum(t.bytes for t in changes.dropped.values())
                if freed >= target:
                    break
                self._drop_oldest(cls, 0, target - freed, changes)
        return bool(changes.dropped)

    def _maybe_compact(self) -> None:
        free = self._pragma_int("freelist_count")
        page_size = self._pragma_int("page_size")
        if free * page_size < self._compact_min_bytes:
            return
        waiting = any(t.messages for t in self._backlog.values())
        if waiting and free < self._pragma_int("page_count") // 2:
            return
        # executescript steps the pragma to the end; execute() would free one page only.
        self._conn.executescript(f"PRAGMA incremental_vacuum({free})")
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def _class_backlog(self, cls: MessageClass, now: float) -> Backlog:
        tally = self._backlog[cls]
        oldest = self._conn.execute(
            "SELECT created_at FROM messages WHERE class = ? ORDER BY id LIMIT 1", (cls.value,)
        ).fetchone()
        age = None if oldest is None else max(0.0, now - oldest[0])
        return Backlog(tally.messages, tally.bytes, age)

    def _load_tallies(self) -> None:
        with self._errors("read the outbox"):
            try:
                for name, count, size in self._conn.execute(
                    "SELECT class, count(*), sum(size) FROM messages GROUP BY class"
                ):
                    self._backlog[MessageClass(name)] = _Tally(count, size)
                for name, count, size in self._conn.execute(
                    "SELECT class, messages, bytes FROM dropped"
                ):
                    self._dropped[MessageClass(name)] = _Tally(count, size)
            except ValueError as exc:
                raise OutboxCorruptError(f"{self.path}: unknown message class ({exc})") from exc

    @contextlib.contextmanager
    def _transaction(self, changes: _Changes, synchronous: Synchronous) -> Iterator[None]:
        """One write transaction; ``changes`` reach the tallies only once it commits.

        FULL for a batch with a ticket event (fsynced before the put returns); NORMAL
        for what a power cut may lose: metrics, control, acknowledgements, failures.
        """
        with self._db.transaction(synchronous):
            yield
        self.commits += 1
        for cls, tally in changes.stored.items():
            self._backlog[cls].add(tally.messages, tally.bytes)
        for cls, tally in changes.dropped.items():
            self._dropped[cls].add(tally.messages, tally.bytes)

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise translate(exc, self.path, doing) from exc

    def _pragma_int(self, name: str) -> int:
        return self._db.pragma_int(name)

    def _disk_bytes(self) -> int:
        return sum(self._db.disk_bytes())


def check_budgets(budgets: Mapping[MessageClass, ClassBudget]) -> None:
    if MessageClass.TICKET in budgets:
        raise ValueError("ticket events are never dropped: the ticket class takes no budget")


def check_fits(message: OutboxMessage, budgets: Mapping[MessageClass, ClassBudget]) -> None:
    """Refuse a message that alone is larger than its class's byte budget."""
    budget = budgets.get(message.message_class)
    if budget is not None and budget.max_bytes is not None and message.size > budget.max_bytes:
        raise ValueError(
            f"a {message.message_class} message of {message.size} bytes exceeds the class"
            f" budget of {budget.max_bytes} bytes"
        )
