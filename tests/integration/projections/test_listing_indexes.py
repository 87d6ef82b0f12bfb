"""PostgreSQL's search indexes for the lists: each holds the district beside the text, so a station's search is one
index scan over its own district's matches, and a listing made with the old text-only indexes is moved to them on
start. The plan is what is tested: the rows would be the same without the index, only slower (at 100,000 items a
broad two-letter term in a district took 18-29 ms by a scan of the table, 4 ms through this index)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from domain.actors import Actor, Role
from projections.listing import Listing, short_grams
from projections.listing_queries import ListQuery, scope
from services.db import Database
from tests.pg import postgres_env

pytestmark = pytest.mark.integration

DISTRICTS = ("徐汇区", "黄浦区", "静安区")
WORDS = ("雨污分流", "给水管线", "燃气管道", "架空线入地", "加装电梯", "外墙保温", "屋面防水", "消防通道")


@pytest.fixture
def db() -> Iterator[Database]:
    for env in postgres_env():
        database = Database(f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@{env['POSTGRES_HOST']}:"
                            f"{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}")
        yield database
        database.close()


def create(db: Database) -> None:
    with db.transaction() as tx:
        for statement in Listing(postgres=True).ddl:
            tx.execute(statement)


def indexes(db: Database) -> dict[str, str]:
    return {name: definition for name, definition in db.query(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('lst_projects', 'lst_items', 'lst_defects') "
        "AND indexdef LIKE ?", ("%USING gin%",))}


def test_a_listing_with_the_text_only_indexes_is_moved_to_the_district_ones(db: Database) -> None:
    create(db)
    with db.transaction() as tx:  # what the listing's DDL made before: the text alone
        for table in ("lst_projects", "lst_items", "lst_defects"):
            tx.execute(f"DROP INDEX {table}_text_by_district")
            tx.execute(f"DROP INDEX {table}_grams_by_district")
            tx.execute(f"CREATE INDEX {table}_search ON {table} USING gin (search_text gin_trgm_ops)")
            tx.execute(f"CREATE INDEX {table}_short ON {table} USING gin (short_grams)")
    create(db)
    create(db)  # every start runs it again: nothing to do the second time
    found = indexes(db)
    for table in ("lst_projects", "lst_items", "lst_defects"):
        assert f"{table}_search" not in found and f"{table}_short" not in found
        assert "(district, search_text gin_trgm_ops)" in found[f"{table}_text_by_district"]
        assert "(district, short_grams)" in found[f"{table}_grams_by_district"]
        assert "gin_pending_list_limit='256'" in found[f"{table}_grams_by_district"]


def items(count: int) -> list[tuple[Any, ...]]:
    at = "2026-03-01T08:00:00.{:06d}+00:00".format
    rows = []
    for n in range(count):
        text = f"{WORDS[n % len(WORDS)]}第{n}段 {n % 12 + 1}号楼北侧"
        rows.append((f"i{n:06d}", 1, f"p{n % 300}", DISTRICTS[n % 300 % 3], "长桥街道", "pipe_relocation", "管线迁移",
                     text, "", "registered", None, None, None, 0, None, "0" * 64, at(n), text, n + 1, None, None,
                     None, short_grams(text)))
    return rows


def capped_count(db: Database, query: ListQuery) -> tuple[str, list[Any]]:
    """The statement a first page runs to count its matches (the one after the page's own)."""
    said: list[tuple[str, list[Any]]] = []

    class Recording:
        is_postgres = True

        def query(self, statement: str, params: Any = ()) -> list[Any]:
            said.append((statement, list(params)))
            return db.query(statement, params)

    found = query.page(Recording(), 50, 0, None)  # type: ignore[arg-type]
    assert not found.exact and said[-1][0].startswith("SELECT COUNT(*)")
    return said[-1]


@pytest.mark.parametrize("text", ["管线", "雨污分流"])  # two letters (their grams), four (trigrams)
def test_a_stations_search_counts_its_districts_matches_through_one_index(db: Database, text: str) -> None:
    create(db)
    with db.transaction() as tx:
        tx.executemany(f"INSERT INTO lst_items VALUES ({', '.join('?' for _ in range(23))})", items(30_000))
    db.optimize(("lst_items",))
    station = Actor(uuid.uuid4(), Role.STATION, DISTRICTS[0])
    condition, params = scope(station, "lst_items")
    query = ListQuery("works_items", "lst_items", "lst_items.item_id", ("registered_at", "item_id"))
    statement, values = capped_count(db, query.when(condition, *params).matching(db, text))
    plan = "\n".join(row[0] for row in db.query(f"EXPLAIN {statement}", values))
    by_district = "lst_items_grams_by_district" if len(text) < 3 else "lst_items_text_by_district"
    assert f"Bitmap Index Scan on {by_district}" in plan and "Seq Scan" not in plan, plan
