"""A read model's tables are dropped whole on either database, and on SQLite the connection's `secure_delete`
(on in this build: what a users-table erasure relies on) is what it was afterwards."""

from __future__ import annotations

import pytest

from services.db import REBUILD_CACHE_KIB, Database

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


def test_a_rebuild_leaves_the_connections_cache_and_setting(raw_db: Database) -> None:
    """While a rebuild lasts the page cache is large and freeing is FAST; after it, even one that failed, the
    connection is as it was: a users-table erasure on it must zero what it frees, and a big cache kept on
    every thread's connection would hold hundreds of MB for nothing."""
    if raw_db.is_postgres:
        with raw_db.rebuilding():  # nothing to set, nothing to fail
            assert raw_db.query("SELECT 1")[0][0] == 1
        return
    before = raw_db.query("PRAGMA cache_size")[0][0], raw_db.query("PRAGMA secure_delete")[0][0]
    with pytest.raises(RuntimeError), raw_db.rebuilding():
        assert raw_db.query("PRAGMA cache_size")[0][0] == -REBUILD_CACHE_KIB
        assert raw_db.query("PRAGMA secure_delete")[0][0] == 2  # FAST
        raise RuntimeError("a read model failed")
    assert (raw_db.query("PRAGMA cache_size")[0][0], raw_db.query("PRAGMA secure_delete")[0][0]) == before
    assert before[1] == 1
