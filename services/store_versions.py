"""The newest stored version of an aggregate in a file-based SQLite event store, for `SiteLedger`'s loads (the
domain's `VersionLookup` port; the domain does no I/O itself)."""

from __future__ import annotations

import queue
import sqlite3
import threading
from typing import Any
from uuid import UUID

from eventsourcing.sqlite import SQLiteAggregateRecorder


class NewestVersions:
    """The newest stored version of an aggregate in an SQLite store, asked in one indexed statement on a read
    connection of its own (autocommit: the statement reads the log as last committed, by any process).

    A load whose cached copy is current (most are) then costs this look-up instead of the library's fast-forward
    read (its pool, BEGIN, SELECT, ROLLBACK: some 25 µs more, and three more releases of the GIL)."""

    def __init__(self, db_name: str, table: str, timeout_s: float) -> None:
        self._db_name, self._timeout_s, self._table = db_name, timeout_s, table
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()  # one per concurrent loader
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @classmethod
    def of(cls, recorder: Any) -> NewestVersions | None:
        """For a file-based SQLite store; None otherwise (then every load fast-forwards as the library does)."""
        if not isinstance(recorder, SQLiteAggregateRecorder):
            return None
        pool = recorder.datastore.pool
        if pool.is_sqlite_memory_mode:
            return None
        return cls(pool.db_name, recorder.events_table_name, float(pool.lock_timeout or 5))

    def newest(self, *aggregate_ids: UUID) -> list[int | None]:
        """Each aggregate's newest stored version (None: not stored), in one statement however many are asked: each
        statement is a read transaction of its own, and its locks and re-read pages cost more than the query."""
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = sqlite3.connect(self._db_name, uri=True, check_same_thread=False, isolation_level=None,
                                   timeout=self._timeout_s)
            with self._lock:
                self._all.append(conn)
        # One scalar sub-select per aggregate: each is a single seek to the end of the aggregate's index range
        # (SQLite's min/max optimisation), where `IN (...) GROUP BY` walks every version of each.
        columns = ", ".join([f"(SELECT MAX(originator_version) FROM {self._table} WHERE originator_id = ?)"]
                            * len(aggregate_ids))
        try:  # fetched to the end: no read left open
            row = conn.execute(f"SELECT {columns}", [a.hex for a in aggregate_ids]).fetchall()[0]
        finally:
            self._idle.put(conn)
        return [None if version is None else int(version) for version in row]

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
