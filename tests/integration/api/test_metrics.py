"""The signals an operator watches: Prometheus series after a scenario, and a request id followed into events."""

from __future__ import annotations

import uuid

import pytest

from domain.chain import ChainedEvent
from tests.http_support import ApiWorld

pytestmark = pytest.mark.integration


def test_metrics_and_a_request_id_that_follows_the_command(api: ApiWorld) -> None:
    item_id = api.item()
    response = api.call("POST", f"/api/v1/works-items/{item_id}/defects", api.station,
                        headers={"X-Request-Id": "req-42"}, json={"severity": "minor", "description": "x"})
    assert response.headers["x-request-id"] == "req-42"
    api.client.post("/api/v1/photos", headers={"Authorization": f"Bearer {api.supervisor}"},
                    files={"file": ("x.jpg", b"not an image", "image/jpeg")}, data={"project_id": api.project_id})
    api.photo("metrics")
    log = api.ok("GET", f"/api/v1/works-items/{item_id}/events", api.station)["items"]
    assert log[-1]["type"] == "DefectRaised"
    event = list(api.container.ledger.events.get(uuid.UUID(item_id)))[-1]
    assert isinstance(event, ChainedEvent) and event.request_id == "req-42"
    text = api.client.get("/metrics").text
    for series in ('siteledger_http_requests_total{method="POST",route="/api/v1/works-items/{item_id}/defects"',
                   'siteledger_command_seconds_bucket{command="RaiseDefect"',
                   'siteledger_events_appended_total{type="DefectRaised"}',
                   'siteledger_projection_lag_events{projection="dashboard"}',
                   "siteledger_relay_lag_events",
                   'siteledger_photo_uploads_total{result="stored"}',
                   'siteledger_photo_refusals_total{reason="photo_not_an_image"}'):
        assert series in text, series
