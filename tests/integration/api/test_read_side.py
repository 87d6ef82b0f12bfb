"""Dashboards, timelines and the acceptance board over HTTP: scope, flags, read-your-writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.bootstrap import build, read_models
from services.seaweed import SeaweedS3
from tests import images
from tests.http_support import ApiWorld
from tests.integration.api.conftest import settings_for
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration


def after(response: httpx.Response) -> int:
    return int(response.headers["x-log-position"])


def test_dashboards_in_scope(api: ApiWorld) -> None:
    item_id = api.item()
    api.pass_all(item_id, until="pressure_test")
    last = api.call("POST", f"/api/v1/works-items/{item_id}/defects", api.station,
                    json={"severity": "major", "description": "沟槽积水", "due_date": "2020-01-01"})
    board = api.ok("GET", f"/api/v1/dashboards/projects/{api.project_id}?after={after(last)}", api.supervisor)
    assert board["works_items"] == 1 and board["hold_points"] == {"passed": 3, "total": 7}
    assert board["open_defects"] == {"total": 1, "by_severity": {"major": 1}, "overdue": 1}
    assert board["quantities"] == {"pipe_laid_m": 42.5} and board["name"] == "金牛花苑"
    district = api.ok("GET", "/api/v1/dashboards/districts/徐汇区", api.station)
    assert district["projects"] == 1 and district["works_items"] == 1
    assert api.ok("GET", "/api/v1/dashboards/city", api.admin)["works_items"] == 1
    problem(api.call("GET", "/api/v1/dashboards/districts/黄浦区", api.station), 403, "out_of_scope")
    problem(api.call("GET", "/api/v1/dashboards/districts/徐汇区", api.supervisor), 403, "role_not_permitted")
    problem(api.call("GET", "/api/v1/dashboards/city", api.station), 403, "role_not_permitted")
    outsider = api.user("supervisor")
    problem(api.call("GET", f"/api/v1/dashboards/projects/{api.project_id}", outsider), 403, "out_of_scope")


def test_dashboards_list_open_rounds_with_when_they_were_opened_and_count_them(api: ApiWorld) -> None:
    item_id = api.item()
    api.pass_all(item_id)
    api.ok("POST", f"/api/v1/works-items/{item_id}/completion", api.supervisor)
    opened = api.call("POST", f"/api/v1/works-items/{item_id}/acceptance-rounds", api.supervisor)
    board = api.ok("GET", f"/api/v1/dashboards/projects/{api.project_id}?after={after(opened)}", api.supervisor)
    city = api.ok("GET", "/api/v1/dashboards/city", api.admin)
    district = api.ok("GET", "/api/v1/dashboards/districts/徐汇区", api.station)
    for figures in (board, city, district):
        assert figures["acceptance_rounds_open_total"] == 1
        (listed,) = figures["acceptance_rounds_open"]
        assert listed["item_id"] == item_id and listed["round_no"] == 1 and listed["electorate"] == 3
        assert abs(datetime.fromisoformat(listed["opened_at"]) - datetime.now(UTC)).total_seconds() < 600
        assert figures["by_kind"]["pipe_relocation"]["by_state"] == {"awaiting_acceptance": 1}
        assert figures["quantities"] == {"pipe_laid_m": 42.5}
    assert api.ok("GET", "/api/v1/dashboards/districts/黄浦区", api.admin)["acceptance_rounds_open_total"] == 0


def test_timeline_with_flags_filters_and_paging(api: ApiWorld) -> None:
    item_id = api.item()
    # recorded on the tablet two days before it reached the server
    late = api.call("POST", f"/api/v1/works-items/{item_id}/inspections", api.supervisor,
                    json={"hold_point": "survey_and_marking", "result": "pass",
                          "recorded_at": "2020-05-01T08:00:00+08:00",
                          "measurements": {"utility_owner": "自来水公司"},
                          "checklist": {"utilities_located": True, "owner_notified": True}})
    assert late.status_code == 201
    api.ok("POST", f"/api/v1/works-items/{item_id}/stop-work", api.station, json={"reason": "围挡缺失"})
    # a photo taken (by its EXIF) after the time the inspection says it was recorded
    photo = api.photo("x", taken="2026:12:31 10:00:00") if False else None
    data = images.jpeg("later", taken="2030:01:01 10:00:00")
    photo = api.client.post("/api/v1/photos", headers={"Authorization": f"Bearer {api.supervisor}"},
                            files={"file": ("l.jpg", data, "image/jpeg")},
                            data={"project_id": api.project_id}).json()["id"]
    failed = api.call("POST", f"/api/v1/works-items/{item_id}/inspections", api.supervisor,
                      json={"hold_point": "excavation", "result": "fail", "photos": [photo],
                            "recorded_at": datetime.now(UTC).isoformat(),
                            "defects": [{"severity": "minor", "description": "围挡缺失"}]})
    assert failed.status_code == 201, failed.text
    timeline = api.ok("GET", f"/api/v1/works-items/{item_id}/timeline?after={after(failed)}", api.station)
    types = [e["type"] for e in timeline["items"]]
    assert types == ["Registered", "InspectionRecorded", "StopWorkOrdered", "InspectionRecorded", "DefectRaised"]
    flags = {e["position"]: {f["code"] for f in e["flags"]} for e in timeline["items"]}
    by_type = dict(zip(types, timeline["items"], strict=False))
    assert flags[timeline["items"][1]["position"]] == {"late_arrival"}
    assert flags[timeline["items"][3]["position"]] == {"photo_after_event", "during_stop_work"}
    first = timeline["items"][1]
    assert first["actor_role"] == "supervisor" and first["actor_name"] and first["device_time"].startswith("2020")
    assert timeline["items"][3]["photos"][0]["thumbnail"] == f"/api/v1/photos/{photo}?size=thumb"
    assert by_type["StopWorkOrdered"]["flags"] == []
    flagged = api.ok("GET", f"/api/v1/projects/{api.project_id}/timeline?flagged=true", api.station)
    assert flagged["total"] == 2
    paged = api.ok("GET", f"/api/v1/projects/{api.project_id}/timeline?limit=2&offset=2&kind=pipe_relocation",
                   api.station)
    assert len(paged["items"]) == 2 and paged["total"] == 5
    station_only = api.ok("GET", f"/api/v1/projects/{api.project_id}/timeline?actor={api.me(api.station)['id']}",
                          api.admin)
    assert [e["type"] for e in station_only["items"]] == ["StopWorkOrdered"]
    outsider = api.user("station", district="黄浦区")
    problem(api.call("GET", f"/api/v1/works-items/{item_id}/timeline", outsider), 403, "out_of_scope")


def test_acceptance_board_shows_what_awaits_my_signature(api: ApiWorld) -> None:
    item_id = api.item("flying_wire_burial")
    api.pass_all(item_id)
    api.ok("POST", f"/api/v1/works-items/{item_id}/completion", api.supervisor)
    opened = api.call("POST", f"/api/v1/works-items/{item_id}/acceptance-rounds", api.supervisor)
    board = api.ok("GET", f"/api/v1/me/acceptance-board?after={after(opened)}", api.residents[0])
    assert [(e["item_id"], e["round_no"]) for e in board["awaiting_my_signature"]] == [(item_id, 1)]
    subject = board["awaiting_my_signature"][0]["subject_hash"]
    signed = api.call("POST", f"/api/v1/works-items/{item_id}/acceptance-rounds/1/signatures", api.residents[0],
                      json={"decision": "accept", "subject_hash": subject})
    board = api.ok("GET", f"/api/v1/me/acceptance-board?after={after(signed)}", api.residents[0])
    assert board["awaiting_my_signature"] == []
    assert board["signed_awaiting_decision"][0]["tally"] == {"electorate": 3, "signed": 1, "accepts": 1, "rejects": 0}
    assert board["signed_awaiting_decision"][0]["my_decision"] == "accept"
    for resident in api.residents[1:]:
        last = api.call("POST", f"/api/v1/works-items/{item_id}/acceptance-rounds/1/signatures", resident,
                        json={"decision": "accept", "subject_hash": subject})
    board = api.ok("GET", f"/api/v1/me/acceptance-board?after={after(last)}", api.residents[0])
    assert board["decided"][0]["status"] == "granted"
    problem(api.call("GET", "/api/v1/me/acceptance-board", api.supervisor), 403, "role_not_permitted")


def test_a_position_the_log_has_not_reached_is_refused_at_once(tmp_path: Path, s3_server: SeaweedS3) -> None:
    container = build(settings_for(tmp_path, s3_server, read_your_writes_timeout_s=0.2))
    with TestClient(create_app(container)) as client:
        api = ApiWorld(client, container)
        head = container.ledger.recorder.max_notification_id()
        assert head is not None  # ApiWorld has recorded its project
        body = problem(api.call("GET", f"/api/v1/dashboards/projects/{api.project_id}?after={head + 50}",
                                api.admin), 422, "position_beyond_log")  # not a wait: the log is not there yet
        assert body["head"] == head
        status = api.ok("GET", "/api/v1/projections/status", api.admin)["projections"]
        assert {p["name"] for p in status} == {m.name for m in read_models(container.settings)}  # every one of them
        assert all(p["lag"] >= 0 and p["head"] == head for p in status)
        problem(api.call("GET", "/api/v1/projections/status", api.residents[0]), 403, "role_not_permitted")
    container.close()
