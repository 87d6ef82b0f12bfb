"""Idempotency over a real socket: concurrent retries, replays, and a key reused for another body."""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest

from services.bootstrap import Container
from tests.http_support import ApiWorld, auth, inspection_body, live_server

pytestmark = pytest.mark.integration


def test_the_same_command_three_times_concurrently_gives_one_event_set(container: Container) -> None:
    with live_server(container) as base, httpx.Client(base_url=base, timeout=30) as client:
        api = ApiWorld(client, container)
        item_id = api.item()
        key = str(uuid.uuid4())
        body = inspection_body("survey_and_marking", result="fail",
                               defects=[{"severity": "minor", "description": "标识缺失"}])
        barrier = threading.Barrier(3, timeout=30)
        responses: list[httpx.Response] = []

        def send() -> None:
            with httpx.Client(base_url=base, timeout=30) as own:
                barrier.wait()
                responses.append(own.post(f"/api/v1/works-items/{item_id}/inspections",
                                          headers=auth(api.supervisor, key), json=body))

        threads = [threading.Thread(target=send) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [r.status_code for r in responses] == [201, 201, 201]
        assert len({r.text for r in responses}) == 1
        assert sum(1 for r in responses if r.headers.get("idempotent-replayed") == "true") == 2
        log = api.ok("GET", f"/api/v1/works-items/{item_id}/events", api.admin)["items"]
        assert [e["type"] for e in log] == ["Registered", "InspectionRecorded", "DefectRaised"]


def test_a_key_reused_with_another_body_is_422_and_records_nothing(api: ApiWorld) -> None:
    item_id = api.item()
    key = str(uuid.uuid4())
    path = f"/api/v1/works-items/{item_id}/defects"
    first = api.call("POST", path, api.station, key=key, json={"severity": "minor", "description": "一"})
    again = api.call("POST", path, api.station, key=key, json={"severity": "minor", "description": "一"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other = api.call("POST", path, api.station, key=key, json={"severity": "major", "description": "二"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert len(api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)["defects"]) == 1
    bad = api.call("POST", path, api.station, key="short", json={"severity": "minor", "description": "三"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_idempotency_key"
