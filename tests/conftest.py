"""Fixtures shared by every layer of tests: applications on each event store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.application import SiteLedger
from services import migrations
from services.db import Database
from services.seaweed import SeaweedS3
from services.settings import Settings
from tests.pg import postgres_env
from tests.support import World


@pytest.fixture
def popo_app() -> SiteLedger:
    """The in-memory store: for unit tests of the domain's rules (no I/O)."""
    return SiteLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def world(popo_app: SiteLedger) -> World:
    return World(popo_app)


def sqlite_env(path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The same store test runs on SQLite (always) and PostgreSQL (required in CI)."""
    if request.param == "sqlite":
        yield sqlite_env(tmp_path / "events.db")
    else:
        yield from postgres_env()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """One real S3 server (SeaweedFS) on loopback for the run; each test gets its own bucket."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop(grace_s=0.5)  # throw-away data: no need to wait for a graceful deregistration


@pytest.fixture
def raw_db(store_env: dict[str, str], tmp_path: Path) -> Iterator[Database]:
    """The read-model and user database beside each store, as round 1 left it: no tables yet."""
    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        url = Settings(postgres_host=store_env["POSTGRES_HOST"], postgres_port=int(store_env["POSTGRES_PORT"]),
                       postgres_db=store_env["POSTGRES_DBNAME"], postgres_user=store_env["POSTGRES_USER"],
                       postgres_password=store_env["POSTGRES_PASSWORD"]).postgres_url()
    else:
        url = f"sqlite:///{tmp_path / 'readmodels.db'}"
    database = Database(url)
    yield database
    database.close()


@pytest.fixture
def db(raw_db: Database) -> Database:
    """That database at this release's schema (the migrations applied)."""
    migrations.upgrade(raw_db.url)
    return raw_db
