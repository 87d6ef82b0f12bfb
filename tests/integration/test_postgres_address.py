"""The read-model and user database address survives a password with URL delimiters in it."""

from __future__ import annotations

import psycopg.conninfo
import pytest

from services.db import Database
from services.settings import Settings
from tests.pg import postgres_env

AWKWARD = "p@ss/w:rd#?%1 x"


def test_the_address_keeps_every_part_where_it_belongs() -> None:
    settings = Settings(event_store="postgres", postgres_host="db.internal", postgres_port=6543,
                        postgres_user="site ledger", postgres_password=AWKWARD, postgres_db="siteledger")
    parts = psycopg.conninfo.conninfo_to_dict(settings.database_url())
    assert parts == {"host": "db.internal", "port": "6543", "user": "site ledger", "password": AWKWARD,
                     "dbname": "siteledger"}


@pytest.mark.postgres
def test_a_password_with_delimiters_reaches_the_right_database() -> None:
    env = postgres_env()
    store = next(env)
    try:
        settings = Settings(event_store="postgres", postgres_host=store["POSTGRES_HOST"],
                            postgres_port=int(store["POSTGRES_PORT"]), postgres_user=store["POSTGRES_USER"],
                            postgres_password=AWKWARD, postgres_db=store["POSTGRES_DBNAME"])
        db = Database(settings.database_url())
        try:  # trust auth on the test server ignores the password; the host and database must still be right
            assert db.query("SELECT current_database()")[0][0] == store["POSTGRES_DBNAME"]
        finally:
            db.close()
    finally:
        env.close()
