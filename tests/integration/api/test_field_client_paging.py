"""The tablet's client reads a whole list by following the server's `Link: rel="next"` cursors, not by offset: every
row once, in the server's order, whatever the page size (uvicorn on loopback, the real app and auth)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from field_client.api import Api
from services.bootstrap import build
from services.seaweed import SeaweedS3
from tests.http_support import ApiWorld, live_server
from tests.integration.api.conftest import settings_for

pytestmark = pytest.mark.integration


@pytest.fixture
def served(tmp_path: Path, s3_server: SeaweedS3) -> Iterator[tuple[ApiWorld, str]]:
    container = build(settings_for(tmp_path, s3_server))
    with live_server(container) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield ApiWorld(client, container), base
    container.close()


def test_a_list_is_read_whole_by_its_cursors(served: tuple[ApiWorld, str]) -> None:
    world, base = served
    made = [world.item(location=f"{n}号楼") for n in range(7)]
    path = f"/api/v1/projects/{world.project_id}/works-items"
    asked: list[httpx.URL] = []
    with Api(base, world.supervisor, "paging-test") as api:
        api.client.event_hooks["request"].append(lambda request: asked.append(request.url))
        rows = api.paged(path, limit=3)
    assert [r["id"] for r in rows] == [r["id"] for r in world.ok("GET", f"{path}?limit=100", world.admin)["items"]]
    assert sorted(r["id"] for r in rows) == sorted(made)
    assert len(asked) == 3  # 3 + 3 + 1
    assert all("offset" not in url.params for url in asked)
    assert all("cursor" in url.params for url in asked[1:])
