"""A read model's tables are dropped whole on either database, and on SQLite the connection's `secure_delete`
(on in this build: what a users-table erasure relies on) is what it was afterwards."""

from __future__ import annotations

import pytest

from services.db import Database

pytestmark = pytest.mark.integration


def test_dropping_a_read_models_tables_leaves_the_connections_setting(raw_db: Database) -> None:
    with raw_db.transaction() as tx:
        tx.execute("CREATE TABLE IF NOT EXISTS drop_me (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
        tx.executemany("INSERT INTO drop_me VALUES (?, ?)", [(str(n), "x" * 2000) for n in range(200)])
    before = None if raw_db.is_postgres else raw_db.query("PRAGMA secure_delete")[0][0]
    with raw_db.transaction() as tx:
        raw_db.drop_tables(tx, ["drop_me", "never_made"])
    with raw_db.transaction() as tx:  # gone: it can be made again, empty
        tx.execute("CREATE TABLE drop_me (k TEXT PRIMARY KEY)")
        assert tx.execute("SELECT COUNT(*) FROM drop_me").fetchone()[0] == 0
        raw_db.drop_tables(tx, ["drop_me"])
    if not raw_db.is_postgres:
        assert raw_db.query("PRAGMA secure_delete")[0][0] == before
