"""A client cannot grow the metrics: made-up methods and unknown paths fold into one label each."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


def series(client: TestClient) -> set[str]:
    lines = client.get("/metrics").text.splitlines()
    return {line.rsplit(" ", 1)[0] for line in lines if line.startswith("siteledger_http_requests_")}


def test_made_up_methods_and_paths_add_no_series(client: TestClient) -> None:
    client.request("BREW", "/api/v1/users/me")
    client.request("BREW", "/api/v1/nowhere-0")
    client.get("/api/v1/no-such-thing-0")
    client.get("/no-such-thing-0")
    before = series(client)
    for n in range(1, 40):
        client.request(f"X{n}METHOD", "/api/v1/users/me")
        client.request(f"X{n}METHOD", f"/api/v1/nowhere-{n}")
        client.get(f"/api/v1/no-such-thing-{n}")
        client.get(f"/no-such-thing-{n}/{n}")
    after = series(client)
    assert after - before == {s for s in after - before if 'route="/metrics"' in s}, sorted(after - before)[:5]
    assert any('method="other",route="/api/v1/users/me"' in s for s in after)
    assert any('route="unmatched"' in s for s in after)
    assert not any("nowhere" in s or "no-such-thing" in s or "METHOD" in s for s in after)
