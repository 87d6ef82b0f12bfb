"""The API on a real SQLite store in a temporary data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.bootstrap import Container, build
from services.settings import Settings
from tests.http_support import ApiWorld


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    built = build(Settings(data_dir=tmp_path / "data"))
    yield built
    built.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, container: Container) -> ApiWorld:
    return ApiWorld(client, container)
