"""POST /api/v1/batch: many queued commands in one request, each exactly as its own route, each idempotent."""

from __future__ import annotations

import uuid

import pytest

from tests.http_support import ApiWorld, inspection_body

pytestmark = pytest.mark.integration


def test_a_batch_runs_each_command_as_its_route_would_and_a_retry_doubles_nothing(api: ApiWorld) -> None:
    item_id = api.item()
    base = f"/api/v1/works-items/{item_id}"
    commands = [
        {"path": f"{base}/inspections", "idempotency_key": str(uuid.uuid4()), "device_id": "pad-3",
         "body": {**inspection_body("survey_and_marking"), "recorded_at": "2026-11-20T08:00:00+08:00"}},
        {"path": f"{base}/inspections", "idempotency_key": str(uuid.uuid4()),
         "body": inspection_body("excavation")},  # no photo: refused, the rest goes on
        {"path": f"{base}/defects", "idempotency_key": str(uuid.uuid4()),
         "body": {"severity": "minor", "description": "围挡缺口"}},
        {"path": f"{base}/acceptance-rounds/1/signatures", "idempotency_key": str(uuid.uuid4()),
         "body": {"decision": "accept", "subject_hash": "a" * 64}},
        {"path": "/api/v1/projects", "idempotency_key": str(uuid.uuid4()), "body": {}},
    ]
    first = api.ok("POST", "/api/v1/batch", api.supervisor, json={"commands": commands})["results"]
    assert [r["status"] for r in first] == [201, 422, 201, 403, 404]
    assert first[1]["body"]["code"] == "missing_required_photos"
    assert first[3]["body"]["code"] == "role_not_permitted"
    version = api.ok("GET", base, api.admin)["version"]
    again = api.ok("POST", "/api/v1/batch", api.supervisor, json={"commands": commands})["results"]
    assert [r["status"] for r in again] == [201, 422, 201, 403, 404]
    assert again[0]["body"] == first[0]["body"] and again[0]["headers"]["idempotent-replayed"] == "true"
    assert api.ok("GET", base, api.admin)["version"] == version
    log = api.ok("GET", f"{base}/events", api.station)["items"]
    assert log[1]["device_id"] == "pad-3" and log[1]["device_time"].startswith("2026-11-20")
    too_many = api.call("POST", "/api/v1/batch", api.supervisor, json={"commands": commands * 101})
    assert too_many.status_code == 422
