"""The application's SQL gateway for SQLite and PostgreSQL: one connection pool, one dialect switch.

It is infrastructure the services own and build (bootstrap, users, photos, uploads, the relay); read
models and their drivers see it only through the port in `projections/sql.py`, so `projections` never
imports `services` and the gateway is the single place that knows which database is behind the URL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any


class Database:
    """`?` placeholders everywhere; PostgreSQL gets them as `%s`. One transaction per `transaction()`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_postgres = url.startswith(("postgresql://", "postgres://"))
        if self.is_postgres:
            from psycopg_pool import ConnectionPool

            self._pool = ConnectionPool(url, min_size=1, max_size=10, open=True,
                                        kwargs={"autocommit": False})
        else:
            self._path = url.removeprefix("sqlite:///")
            if self._path != ":memory:":
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            self._local = threading.local()

    def _sqlite(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            # What a delete or update frees is overwritten with zeros, so an erased name or phone does not stay in
            # the file's free space: Debian builds SQLite this way, other builds (and Python's own) do not
            conn.execute("PRAGMA secure_delete=ON")
            self._local.conn = conn
        return conn

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.is_postgres else statement

    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        if self.is_postgres:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield _Tx(self, cur)
        else:
            lite = self._sqlite()
            lite.execute("BEGIN IMMEDIATE")
            try:
                yield _Tx(self, lite.cursor())
            except BaseException:
                lite.execute("ROLLBACK")
                raise
            lite.execute("COMMIT")

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        if self.is_postgres:
            with self._pool.connection() as conn, conn.cursor() as cur:
                cur.execute(self.sql(statement), params)
                rows = cur.fetchall()
                conn.rollback()
                return rows
        return self._sqlite().execute(statement, params).fetchall()

    def drop_tables(self, tx: _Tx, tables: Sequence[str]) -> None:
        """Drop a read model's tables (our own names, never input). SQLite as Debian and Python build it zeroes
        every page it frees (`secure_delete` on), which was most of a 100,000-event rebuild's reset (0.5 s of
        0.55); a read model holds what the event log holds and no personal data to scrub (names and phones live
        only in `users`, whose erasure keeps the connection's setting, see `scrub`), so its pages are freed
        without it."""
        if self.is_postgres:
            for table in tables:
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            return
        previous = int(tx.execute("PRAGMA secure_delete").fetchone()[0])
        tx.execute("PRAGMA secure_delete = FAST")  # still clears what is freed inside a page being written
        try:
            for table in tables:
                tx.execute(f"DROP TABLE IF EXISTS {table}")
        finally:
            tx.execute(f"PRAGMA secure_delete = {previous}")

    @contextmanager
    def rebuilding(self) -> Iterator[None]:
        """While this thread rebuilds read models: SQLite keeps up to `REBUILD_CACHE_KIB` of pages in memory and
        frees space without zeroing whole pages (`secure_delete = FAST`), then goes back to its usual settings.

        A rebuild's batch writes rows all over a read model's tables and their indexes (100 MB for 100,000
        events); with the default 2 MB cache most of its time went on pages evicted and read back within the
        same transaction. The pages it frees held read models, which keep no personal data (see `drop_tables`).
        Setting the cache back to its default frees the memory. PostgreSQL needs nothing of this."""
        if self.is_postgres:
            yield
            return
        lite = self._sqlite()
        cache = int(lite.execute("PRAGMA cache_size").fetchone()[0])
        secure = int(lite.execute("PRAGMA secure_delete").fetchone()[0])
        lite.execute(f"PRAGMA cache_size = -{REBUILD_CACHE_KIB}")
        lite.execute("PRAGMA secure_delete = FAST")
        try:
            yield
        finally:
            lite.execute(f"PRAGMA cache_size = {cache}")
            lite.execute(f"PRAGMA secure_delete = {secure}")

    def scrub(self, tables: Sequence[str]) -> bool:
        """After personal data was erased from `tables` (our own names, never input): leave no old copy of the rows
        in the store's files. SQLite overwrites freed space as it writes (`secure_delete`), but the write-ahead log
        still holds the pages as they were before: a checkpoint copies the new pages into the database and
        empties the log. PostgreSQL keeps the old row versions until VACUUM removes them (and their index
        entries). Returns False if a reader still held the old state, so that some of it may stay until the next
        checkpoint or VACUUM."""
        if self.is_postgres:
            with self._pool.connection() as conn:
                conn.autocommit = True  # VACUUM runs outside a transaction
                try:
                    conn.execute(f"VACUUM {', '.join(tables)}")
                finally:
                    conn.autocommit = False
            return True
        busy, _log, _copied = self._sqlite().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy

    def optimize(self, tables: Sequence[str] = ()) -> None:
        """Fresh planner statistics: without them SQLite searches a rare term within a district by the slow index
        (32 ms instead of 0.1 ms at 100,000 items). After a rebuild the tables are analysed; SQLite's own
        `PRAGMA optimize` also runs as a connection closes."""
        if self.is_postgres:
            with self._pool.connection() as conn:
                conn.autocommit = True
                try:
                    for table in tables:
                        conn.execute(f"ANALYZE {table}")  # our own table names, never input
                finally:
                    conn.autocommit = False
        else:
            lite = self._sqlite()
            for table in tables:
                lite.execute(f"ANALYZE {table}")
            lite.execute("PRAGMA optimize")

    def close(self) -> None:
        if self.is_postgres:
            self._pool.close()
        else:
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                with suppress(sqlite3.Error):  # a database gone or locked at shutdown: nothing to keep
                    conn.execute("PRAGMA optimize")
                conn.close()
                self._local.conn = None


REBUILD_CACHE_KIB = 256 * 1024  # a 100,000-event rebuild's read models fit (117 MB); used only as needed


class _Tx:
    def __init__(self, db: Database, cursor: Any) -> None:
        self._db, self._cursor = db, cursor

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        self._cursor.execute(self._db.sql(statement), params)
        return self._cursor

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(self._db.sql(statement), rows)

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    def fetchone(self) -> Any:
        return self._cursor.fetchone()
