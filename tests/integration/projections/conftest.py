"""The read side on each store: one container per test on SQLite (always) and PostgreSQL (required in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.bootstrap import Container, build
from services.settings import Settings
from tests.pg import postgres_env

NO_S3 = "127.0.0.1:9"  # these tests store no photo: S3 is never called


@pytest.fixture(params=["sqlite", "postgres"])
def container(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    if request.param == "sqlite":
        built = build(Settings(data_dir=tmp_path / "data", s3_endpoint=NO_S3))
        yield built
        built.close()
        return
    for env in postgres_env():
        built = build(Settings(event_store="postgres", postgres_db=env["POSTGRES_DBNAME"],
                               postgres_user=env["POSTGRES_USER"], postgres_host=env["POSTGRES_HOST"],
                               postgres_port=int(env["POSTGRES_PORT"]), s3_endpoint=NO_S3))
        yield built
        built.close()
