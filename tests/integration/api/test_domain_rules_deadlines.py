"""Issue 18 §3 over HTTP, with a frozen clock: GET /api/v1/deadlines, scoped as everything else.

The route (services/api/routers/deadlines.py) is mounted here as the app will mount it; the clock is the app's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.bootstrap import Container
from tests.http_support import ApiWorld
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration
TODAY: list[date] = []


@pytest.fixture
def api(container: Container) -> Iterator[ApiWorld]:
    app = create_app(container)
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


def test_the_attention_list_shows_exactly_the_seeded_troubles(api: ApiWorld) -> None:
    now = datetime.now(UTC)
    today = now.date()
    clean = api.item()
    assert api.inspect(clean, "survey_and_marking").status_code == 201
    overdue = api.item()
    defect = api.ok("POST", f"/api/v1/works-items/{overdue}/defects", api.supervisor, json={
        "severity": "major", "description": "沟槽未设警示灯", "due_date": (today - timedelta(days=5)).isoformat()})
    stopped = api.item()
    api.ok("POST", f"/api/v1/works-items/{stopped}/stop-work", api.station, json={"reason": "未设围挡"})
    late = api.item()
    assert api.inspect(late, "survey_and_marking", recorded_at=(now - timedelta(hours=13)).isoformat()
                       ).status_code == 201
    waiting = api.item("flying_wire_burial")
    api.pass_all(waiting)
    api.ok("POST", f"/api/v1/works-items/{waiting}/completion", api.supervisor)
    api.ok("POST", f"/api/v1/works-items/{waiting}/acceptance-rounds", api.supervisor)
    api.ok("POST", "/api/v1/projects", api.admin, json={"name": "南小区", "district": "徐汇区"})  # a clean project

    TODAY.append(today + timedelta(days=15))
    board = api.ok("GET", "/api/v1/districts/徐汇区/attention?flagged_days=30", api.station)
    assert [p["project_id"] for p in board["projects"]] == [api.project_id]
    listed = {i["item_id"]: i for i in board["projects"][0]["items"]}
    assert set(listed) == {overdue, stopped, late, waiting}  # not the clean item
    assert listed[overdue]["overdue_defects"] == [{"defect_id": defect["defect_id"], "severity": "major",
                                                   "due": (today - timedelta(days=5)).isoformat(),
                                                   "days_overdue": 20}]
    assert listed[stopped]["stop_work"]["reason"] == "未设围挡"
    assert [f["flags"] for f in listed[late]["flagged"]] == [["late_arrival"]]
    assert listed[waiting]["stalled_round"]["days_open"] == 15
    problem(api.call("GET", "/api/v1/districts/徐汇区/attention", api.supervisor), 403, "role_not_permitted")
    problem(api.call("GET", "/api/v1/districts/徐汇区/attention", api.user("station", district="黄浦区")), 403,
            "out_of_scope")
    assert api.ok("GET", "/api/v1/districts/徐汇区/attention", api.admin)["projects"]


def test_each_reader_sees_the_deadlines_of_the_projects_they_may_see(api: ApiWorld) -> None:
    """Read from the read model, still scoped as everything else: a district's station and admin by district (in
    SQL), an assigned supervisor or a resident by project, nobody else anything; anonymous: 401."""
    today = date(2026, 6, 1)
    TODAY.append(today)
    ours = api.item(planned_end="2026-05-30")
    theirs_project = api.ok("POST", "/api/v1/projects", api.admin,
                            json={"name": "外滩花园", "district": "黄浦区"})["id"]
    theirs = api.ok("POST", f"/api/v1/projects/{theirs_project}/works-items", api.admin, json={
        "kind": "pipe_relocation", "location": "1号楼", "planned_end": "2026-06-03"})["id"]

    def seen(token: str, query: str = "") -> list[tuple[str | None, str]]:
        return [(d["item_id"], d["state"]) for d in api.ok("GET", f"/api/v1/deadlines{query}", token)["items"]]

    assert seen(api.admin) == [(ours, "breached"), (theirs, "approaching")]  # city-wide
    assert seen(api.admin, "?district=黄浦区") == [(theirs, "approaching")]
    assert seen(api.admin, f"?project={api.project_id}&state=breached") == [(ours, "breached")]
    assert seen(api.station) == seen(api.station, "?district=徐汇区") == [(ours, "breached")]
    assert seen(api.supervisor) == [(ours, "breached")]
    assert seen(api.resident(1)) == [(ours, "breached")]
    assert seen(api.user("supervisor")) == []  # assigned to no project
    district_admin = api.user("admin", district="黄浦区")
    assert seen(district_admin) == [(theirs, "approaching")]
    problem(api.call("GET", "/api/v1/deadlines?district=徐汇区", district_admin), 403, "out_of_scope")
    assert api.client.get("/api/v1/deadlines").status_code == 401
