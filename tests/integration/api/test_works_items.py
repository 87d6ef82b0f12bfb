"""Every works-item route over HTTP, with its error cases (404, 409, 422)."""

from __future__ import annotations

import uuid

import pytest

from tests.http_support import ApiWorld
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration


def test_register_and_read_a_works_item(api: ApiWorld) -> None:
    problem(api.call("POST", f"/api/v1/projects/{api.project_id}/works-items", api.admin,
                     json={"kind": "spaceport", "location": "x"}), 422, "unknown_works_kind")
    problem(api.call("POST", f"/api/v1/projects/{uuid.uuid4()}/works-items", api.admin,
                     json={"kind": "pipe_relocation", "location": "x"}), 404, "project_not_found")
    item_id = api.item()
    response = api.call("GET", f"/api/v1/works-items/{item_id}", api.residents[0])
    view = response.json()
    assert response.headers["etag"] == '"1"'
    assert view["state"] == "registered" and view["state_zh"] == "已登记" and view["kind_zh"] == "管线迁移"
    assert [h["code"] for h in view["hold_points"]][:2] == ["survey_and_marking", "excavation"]
    assert view["hold_points"][1]["ready"] is False and view["hold_points"][0]["ready"] is True
    listed = api.ok("GET", f"/api/v1/projects/{api.project_id}/works-items?kind=pipe_relocation", api.supervisor)
    assert [i["id"] for i in listed["items"]] == [item_id]
    assert api.ok("GET", f"/api/v1/projects/{api.project_id}/works-items?state=closed_out", api.admin)["total"] == 0
    problem(api.call("GET", f"/api/v1/works-items/{uuid.uuid4()}", api.admin), 404, "works_item_not_found")
    kinds = api.ok("GET", "/api/v1/works-kinds", api.contractor)["items"]
    assert {k["code"] for k in kinds} == {"pipe_relocation", "flying_wire_burial", "elevator_installation",
                                          "gas_pipe_relocation"}
    assert api.ok("GET", "/api/v1/works-kinds/elevator_installation", api.station)["name_zh"] == "既有多层住宅加装电梯"


def test_inspections_carry_device_metadata_and_refuse_what_the_template_refuses(api: ApiWorld) -> None:
    item_id = api.item()
    response = api.call("POST", f"/api/v1/works-items/{item_id}/inspections", api.supervisor,
                        headers={"X-Device-Id": "pad-07"},
                        json={"hold_point": "survey_and_marking", "result": "pass",
                              "recorded_at": "2026-11-20T08:15:00+08:00",
                              "measurements": {"utility_owner": "自来水公司"},
                              "checklist": {"utilities_located": True, "owner_notified": True}})
    assert response.status_code == 201, response.text
    assert response.json()["events"][0]["type"] == "InspectionRecorded"
    assert response.headers["etag"] == '"2"' and int(response.headers["x-log-position"]) > 0
    log = api.ok("GET", f"/api/v1/works-items/{item_id}/events", api.station)
    last = log["items"][-1]
    assert last["device_id"] == "pad-07" and last["device_time"].startswith("2026-11-20T08:15")
    assert last["actor_role"] == "supervisor" and last["actor_name"].startswith("supervisor")
    assert last["data"]["measurements"] == {"utility_owner": "自来水公司"}
    body = problem(api.inspect(item_id, "excavation", photos=[]), 422, "missing_required_photos")
    assert "照片" in body["detail"]
    problem(api.inspect(item_id, "backfill_restoration"), 409, "hold_point_out_of_order")
    problem(api.inspect(item_id, "no_such_point"), 422, "hold_point_not_in_template")
    problem(api.inspect(item_id, "excavation", result="fail"), 422, "failed_inspection_needs_defect")
    problem(api.inspect(item_id, "excavation", result="maybe"), 422, "validation_error")
    problem(api.inspect(item_id, "excavation", photos=["x.jpg"]), 422, "invalid_photo_reference")
    api.pass_all(item_id, until="pressure_test")
    body = problem(api.inspect(item_id, "pressure_test", measurements={
        "medium": "water_supply", "pipe_material": "plastic", "working_pressure_mpa": 0.4, "test_pressure_mpa": 0.6,
        "hold_time_min": 30, "pressure_drop_mpa": 0.01, "gauge_id": "G-1"}), 422, "inspection_limits_not_met")
    assert body["checks"] == ["塑料管稳压≥1 h"]


def test_optimistic_concurrency_with_if_match(api: ApiWorld) -> None:
    item_id = api.item()
    ok = api.call("POST", f"/api/v1/works-items/{item_id}/stop-work", api.station, headers={"If-Match": '"1"'},
                  json={"reason": "未设围挡"})
    assert ok.status_code == 201
    body = problem(api.call("POST", f"/api/v1/works-items/{item_id}/stop-work/lift", api.station,
                            headers={"If-Match": '"1"'}, json={}), 409, "version_conflict")
    assert body["current"] == 2 and body["expected"] == 1
    problem(api.call("POST", f"/api/v1/works-items/{item_id}/stop-work/lift", api.station,
                     headers={"If-Match": "latest"}), 400, "invalid_if_match")
    api.ok("POST", f"/api/v1/works-items/{item_id}/stop-work/lift", api.station, headers={"If-Match": "2"})


def test_defect_routes(api: ApiWorld) -> None:
    item_id = api.item()
    defect = api.ok("POST", f"/api/v1/works-items/{item_id}/defects", api.station,
                    json={"severity": "critical", "description": "燃气管距离不足", "due_date": "2026-12-01"})
    base = f"/api/v1/works-items/{item_id}/defects"
    problem(api.call("POST", f"{base}/{defect['defect_id']}/close", api.supervisor), 409, "no_rectification_reported")
    problem(api.call("POST", f"{base}/nope/rectifications", api.contractor, json={"description": "x"}),
            404, "defect_not_found")
    api.ok("POST", f"{base}/{defect['defect_id']}/rectifications", api.contractor,
           json={"description": "已迁移", "photos": [api.photo("fix", api.contractor)]})
    api.ok("POST", f"{base}/{defect['defect_id']}/reject-rectification", api.station, json={"reason": "照片不清"})
    api.ok("POST", f"{base}/{defect['defect_id']}/rectifications", api.contractor,
           json={"description": "重拍", "photos": [api.photo("fix-again", api.contractor)]})
    api.ok("POST", f"{base}/{defect['defect_id']}/close", api.station, json={"notes": "复查合格"})
    view = api.ok("GET", f"/api/v1/works-items/{item_id}", api.admin)
    assert view["defects"][0]["status"] == "closed" and view["open_defects"] == 0
    problem(api.call("POST", f"{base}", api.station, json={"severity": "huge", "description": "x"}),
            422, "validation_error")


def test_raw_log_is_paged_and_verifies(api: ApiWorld) -> None:
    item_id = api.item()
    api.pass_all(item_id, until="pressure_test")
    first = api.ok("GET", f"/api/v1/works-items/{item_id}/events?limit=2", api.station)
    assert [e["version"] for e in first["items"]] == [1, 2]
    assert (first["total"], first["offset"], first["limit"]) == (4, 0, 2)  # the one list envelope
    second = api.ok("GET", f"/api/v1/works-items/{item_id}/events?after=2&limit=100", api.station)
    assert [e["version"] for e in second["items"]] == [3, 4] and (second["total"], second["offset"]) == (4, 2)
    assert second["items"][0]["prev_hash"] == first["items"][1]["event_hash"]
    assert api.ok("GET", f"/api/v1/works-items/{item_id}/verify", api.residents[0]) == {
        "valid": True, "events": 4, "head": second["items"][-1]["event_hash"]}
    problem(api.call("GET", f"/api/v1/works-items/{item_id}/events?limit=0", api.admin), 422, "validation_error")
