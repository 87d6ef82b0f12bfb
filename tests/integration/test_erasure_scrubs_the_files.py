"""An erased person's name and phone are gone from the store's files, not only from its answers: no old row
version, free-space remnant, index entry or write-ahead-log page keeps them (PIPL erasure), on each store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from domain.actors import Role
from services.db import Database
from services.users import UserDirectory

pytestmark = pytest.mark.integration

NAME, PHONE = "欧阳淑华", "13987654321"


def store_files(db: Database) -> list[Path]:
    """The files that hold the users' rows: SQLite's database and log, PostgreSQL's heap and index files after a
    checkpoint (read as the machine's root, as CI runs: the database is on this machine)."""
    if not db.is_postgres:
        base = Path(db.url.removeprefix("sqlite:///"))
        return [path for path in (base, Path(f"{base}-wal")) if path.exists()]
    with db.transaction() as tx:
        tx.execute("CHECKPOINT")  # the pages as they are now, written to their files
    data = Path(db.query("SHOW data_directory")[0][0])
    relations = ["users", *[r[0] for r in db.query("SELECT indexname FROM pg_indexes WHERE tablename = 'users'")]]
    files = [data / db.query("SELECT pg_relation_filepath(?)", (name,))[0][0] for name in relations]
    if not all(os.access(path, os.R_OK) for path in files):
        pytest.fail(f"PostgreSQL's files are not readable here ({data}): run as root on the database's machine")
    return files


def holding(db: Database, *values: str) -> list[str]:
    return [f"{path.name}: {value}" for path in store_files(db) for value in values
            if value.encode() in path.read_bytes()]


def test_an_erased_name_and_phone_are_in_no_file_of_the_store(db: Database) -> None:
    users = UserDirectory(db)
    person = users.create(Role.RESIDENT, NAME, PHONE)
    others = [users.create(Role.RESIDENT, f"邻居{n}", f"1380000{n:04d}") for n in range(50)]
    users.issue(person.user_id, device="手机")
    assert holding(db, PHONE, NAME), "the test must first find them where they are written"

    assert users.erase_personal_data(person.user_id) == 1
    assert holding(db, PHONE, NAME) == []
    erased, neighbour = users.get(person.user_id), users.get(others[7].user_id)
    assert erased is not None and erased.name is None and erased.phone is None
    assert neighbour is not None and neighbour.phone == "13800000007"
    assert holding(db, "13800000007")  # the neighbours' rows are untouched
