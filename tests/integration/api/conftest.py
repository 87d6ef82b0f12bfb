"""The API on a real SQLite store in a temporary data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.bootstrap import Container, build
from services.seaweed import SeaweedS3
from services.settings import Settings
from tests.http_support import ApiWorld


def settings_for(tmp_path: Path, s3: SeaweedS3, **extra: Any) -> Settings:
    """Tests share one bucket (SeaweedFS makes volumes per bucket); photos are content-addressed and
    scoped by project grants, and every test has its own projects."""
    return Settings(data_dir=tmp_path / "data", s3_endpoint=s3.endpoint, s3_bucket="siteledger-test",
                    **extra)


@pytest.fixture
def container(tmp_path: Path, s3_server: SeaweedS3) -> Iterator[Container]:
    built = build(settings_for(tmp_path, s3_server))
    yield built
    built.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, container: Container) -> ApiWorld:
    return ApiWorld(client, container)
