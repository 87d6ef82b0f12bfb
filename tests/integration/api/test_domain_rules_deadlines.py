"""Issue 18 §3 over HTTP, with a frozen clock: GET /api/v1/deadlines, scoped as everything else.

The route (services/api/routers/deadlines.py) is mounted here as the app will mount it; the clock is the app's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.api.routers import deadlines
from services.bootstrap import Container
from tests.http_support import ApiWorld
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration
TODAY: list[date] = []


@pytest.fixture
def api(container: Container) -> Iterator[ApiWorld]:
    app = create_app(container)
    if not any(getattr(route, "path", "") == "/api/v1/deadlines" for route in app.routes):
        app.include_router(deadlines.router, prefix="/api/v1")
    app.state.clock = lambda: TODAY[-1]
    with TestClient(app) as client:
        yield ApiWorld(client, container)


def test_a_lift_unregistered_on_day_31_is_breached(api: ApiWorld) -> None:
    pipe = api.item()
    api.pass_all(pipe)
    lift = api.item("elevator_installation", links={"pipe_relocation_cleared": pipe})
    api.pass_all(lift, until="usage_registration")
    passed_at = api.container.ledger.get_item(lift).hold_points["trial_run"]["at"]  # the server's time, day 0
    day0 = datetime.fromisoformat(passed_at).date()
    TODAY.append(day0 + timedelta(days=31))
    breached = api.ok("GET", "/api/v1/deadlines?state=breached", api.station)
    assert [(d["kind"], d["item_id"], d["days_overdue"]) for d in breached["items"]] == [
        ("lift_registration", lift, 1)]
    assert breached["today"] == (day0 + timedelta(days=31)).isoformat()
    assert "30 日内" in breached["items"][0]["kind_zh"]
    TODAY.append(day0 + timedelta(days=29))
    assert [d["state"] for d in api.ok("GET", "/api/v1/deadlines", api.supervisor)["items"]] == ["approaching"]
    outsider = api.user("station", district="黄浦区")
    assert api.ok("GET", "/api/v1/deadlines", outsider)["items"] == []
    problem(api.call("GET", "/api/v1/deadlines?district=徐汇区", outsider), 403, "out_of_scope")
    TODAY.append(day0 + timedelta(days=31))
    assert api.inspect(lift, "usage_registration").status_code == 201
    assert api.ok("GET", "/api/v1/deadlines?state=breached", api.admin)["items"] == []
