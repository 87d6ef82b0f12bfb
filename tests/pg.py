"""A fresh PostgreSQL database per test run: required in CI, skipped with a reason elsewhere."""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import psycopg

PG_HOST = os.environ.get("SITELEDGER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("SITELEDGER_TEST_PG_PORT", "5432")
PG_USER = os.environ.get("SITELEDGER_TEST_PG_USER", os.environ.get("USER", "postgres"))
PG_PASSWORD = os.environ.get("SITELEDGER_TEST_PG_PASSWORD", "")
REQUIRED = os.environ.get("SITELEDGER_REQUIRE_POSTGRES") == "1"


def _admin_connect() -> psycopg.Connection[tuple[Any, ...]]:
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, password=PG_PASSWORD,
                           dbname="postgres", autocommit=True, connect_timeout=3)


def postgres_env() -> Generator[dict[str, str], None, None]:
    """Create a throw-away database, yield the eventsourcing settings for it, drop it afterwards."""
    try:
        admin = _admin_connect()
    except Exception as error:
        if REQUIRED:
            pytest.fail(f"PostgreSQL is required (SITELEDGER_REQUIRE_POSTGRES=1) but unreachable: {error}")
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT} ({error}); CI requires it")
    name = f"siteledger_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": name, "POSTGRES_HOST": PG_HOST, "POSTGRES_PORT": PG_PORT,
                "POSTGRES_USER": PG_USER, "POSTGRES_PASSWORD": PG_PASSWORD,
                "POSTGRES_POOL_SIZE": "10", "POSTGRES_MAX_OVERFLOW": "10",
            }
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
