"""The console over HTTP on a real SQLite store and the real S3 fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.bootstrap import Container, build
from services.seaweed import SeaweedS3
from tests.integration.api.conftest import settings_for


@pytest.fixture
def container(tmp_path: Path, s3_server: SeaweedS3) -> Iterator[Container]:
    built = build(settings_for(tmp_path, s3_server))
    yield built
    built.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), follow_redirects=False) as test_client:
        yield test_client
