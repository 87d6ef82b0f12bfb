"""Issue 18 §1 over HTTP: each loose end answers with a 4xx, a stable code and a Chinese refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.bootstrap import build
from services.seaweed import SeaweedS3
from tests.http_support import ApiWorld
from tests.integration.api.conftest import settings_for
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration


def items(item_id: str) -> str:
    return f"/api/v1/works-items/{item_id}"


def accepted_item(api: ApiWorld) -> str:
    item_id = api.item()
    api.pass_all(item_id)
    api.ok("POST", f"{items(item_id)}/completion", api.supervisor)
    opened = api.ok("POST", f"{items(item_id)}/acceptance-rounds", api.supervisor)
    for resident in api.residents:
        api.ok("POST", f"{items(item_id)}/acceptance-rounds/{opened['round_no']}/signatures", resident,
               json={"decision": "accept", "subject_hash": opened["subject_hash"]})
    assert api.ok("GET", items(item_id), api.admin)["state"] == "accepted"
    return item_id


def test_close_out_is_refused_while_stopped_and_the_order_can_then_be_lifted(api: ApiWorld) -> None:
    item_id = accepted_item(api)
    api.ok("POST", f"{items(item_id)}/stop-work", api.station, json={"reason": "基坑边堆土超高"})
    body = problem(api.call("POST", f"{items(item_id)}/close-out", api.admin, json={"notes": "销号"}),
                   409, "stop_work_in_force")
    assert "停工令" in body["detail"] and "销号" in body["detail"]
    assert api.ok("GET", items(item_id), api.admin)["state"] == "accepted"
    api.ok("POST", f"{items(item_id)}/stop-work/lift", api.station, json={"notes": "已整改"})
    api.ok("POST", f"{items(item_id)}/close-out", api.admin, json={"notes": "销号"})
    view = api.ok("GET", items(item_id), api.admin)
    assert view["state"] == "closed_out" and view["stop_work"] is None


def test_acceptance_is_not_requested_while_stopped(api: ApiWorld) -> None:
    item_id = api.item()
    api.pass_all(item_id)
    api.ok("POST", f"{items(item_id)}/completion", api.supervisor)
    api.ok("POST", f"{items(item_id)}/stop-work", api.station, json={"reason": "未设围挡"})
    body = problem(api.call("POST", f"{items(item_id)}/acceptance-rounds", api.supervisor), 409,
                   "stop_work_in_force")
    assert "发起验收" in body["detail"]


def test_an_owners_vote_that_cannot_be_true_is_refused(api: ApiWorld) -> None:
    lift = api.item("elevator_installation")
    nobody = {"total_area_m2": 0, "total_owners": 0, "participating_area_m2": 0, "participating_owners": 0,
              "agreeing_area_m2": 0, "agreeing_owners": 0}
    body = problem(api.inspect(lift, "owner_consent", measurements=nobody), 422, "inconsistent_measurements")
    assert "业主总人数至少 1 人" in body["detail"]
    more_agree = {**nobody, "total_area_m2": 1200, "total_owners": 12, "participating_area_m2": 800,
                  "participating_owners": 8, "agreeing_area_m2": 900, "agreeing_owners": 9}
    body = problem(api.inspect(lift, "owner_consent", measurements=more_agree), 422, "inconsistent_measurements")
    assert "同意人数不大于参与表决人数" in body["detail"] and "同意面积不大于参与表决面积" in body["detail"]
    more_part = {**more_agree, "participating_owners": 13, "agreeing_owners": 10, "agreeing_area_m2": 600}
    body = problem(api.inspect(lift, "owner_consent", measurements=more_part, result="fail",
                               defects=[{"severity": "major", "description": "表决未通过"}]),
                   422, "inconsistent_measurements")
    assert "参与表决人数不大于总人数" in body["detail"]
    half = {**more_agree, "agreeing_area_m2": 600, "agreeing_owners": 8.5}
    body = problem(api.inspect(lift, "owner_consent", measurements=half), 422, "invalid_measurement")
    assert "整数" in body["detail"]
    assert api.inspect(lift, "owner_consent").status_code == 201


def test_cable_cutover_needs_at_least_one_operator(api: ApiWorld) -> None:
    wires = api.item("flying_wire_burial")
    api.pass_all(wires, until="cable_cutover")
    body = problem(api.inspect(wires, "cable_cutover", measurements={"operators_total": 0, "operators_cut_over": 0}),
                   422, "inconsistent_measurements")
    assert "运营商总数至少 1 家" in body["detail"]
    assert api.inspect(wires, "cable_cutover").status_code == 201


def test_a_rectification_without_an_after_photo_is_refused(api: ApiWorld) -> None:
    item_id = api.item()
    defect = api.ok("POST", f"{items(item_id)}/defects", api.supervisor,
                    json={"severity": "major", "description": "沟槽未设警示灯"})
    path = f"{items(item_id)}/defects/{defect['defect_id']}/rectifications"
    body = problem(api.call("POST", path, api.contractor, json={"description": "已设置"}), 422,
                   "missing_rectification_photos")
    assert "整改后照片" in body["detail"]
    api.ok("POST", path, api.contractor, json={"description": "已设置", "photos": [api.photo("lamp", api.contractor)]})


def test_a_defect_raised_by_the_station_is_closed_only_by_the_station(api: ApiWorld) -> None:
    item_id = api.item()
    defect = api.ok("POST", f"{items(item_id)}/defects", api.station,
                    json={"severity": "critical", "description": "燃气管与基坑净距不足"})
    base = f"{items(item_id)}/defects/{defect['defect_id']}"
    api.ok("POST", f"{base}/rectifications", api.contractor,
           json={"description": "已迁移", "photos": [api.photo("moved", api.contractor)]})
    body = problem(api.call("POST", f"{base}/close", api.supervisor, json={"notes": "复查合格"}), 403,
                   "defect_closed_by_station_only")
    assert "安全质量监督站" in body["detail"]
    api.ok("POST", f"{base}/close", api.station, json={"notes": "复查合格"})
    view = api.ok("GET", items(item_id), api.admin)
    assert view["defects"][0]["status"] == "closed"


def _flags(api: ApiWorld, item_id: str, response: httpx.Response) -> set[str]:
    """The timeline entry of the event a command just recorded, read after its write."""
    position = int(response.headers["x-log-position"])
    timeline = api.ok("GET", f"{items(item_id)}/timeline?after={position}", api.station)
    entry = next(e for e in timeline["items"] if e["position"] == position)
    return {flag["code"] for flag in entry["flags"]}


def _defect_at(api: ApiWorld, item_id: str, device_time: datetime) -> httpx.Response:
    response = api.call("POST", f"{items(item_id)}/defects", api.supervisor, headers={"X-Device-Id": "pad-09"},
                        json={"severity": "minor", "description": "围挡缺口", "recorded_at": device_time.isoformat()})
    assert response.status_code == 201, response.text
    return response


def test_a_device_clock_ahead_of_the_server_is_flagged(api: ApiWorld) -> None:
    item_id = api.item()
    now = datetime.now(UTC)
    assert "device_clock_ahead" in _flags(api, item_id, _defect_at(api, item_id, now + timedelta(hours=3)))
    assert "device_clock_ahead" not in _flags(api, item_id, _defect_at(api, item_id, now + timedelta(minutes=2)))
    assert "device_clock_ahead" not in _flags(api, item_id, _defect_at(api, item_id, now - timedelta(hours=1)))
    labels = {f["code"]: f["label_zh"] for e in api.ok("GET", f"{items(item_id)}/timeline", api.station)["items"]
              for f in e["flags"]}
    assert "设备时钟" in labels["device_clock_ahead"]


def test_a_device_clock_thirty_days_ahead_is_flagged(tmp_path: Path, s3_server: SeaweedS3) -> None:
    """The audit's case: a deployment whose margin lets a month-ahead clock through still flags it."""
    container = build(settings_for(tmp_path, s3_server, device_time_max_ahead_hours=24 * 40))
    try:
        with TestClient(create_app(container)) as client:
            api = ApiWorld(client, container)
            item_id = api.item()
            flags = _flags(api, item_id, _defect_at(api, item_id, datetime.now(UTC) + timedelta(days=30)))
            assert "device_clock_ahead" in flags and "late_arrival" not in flags
    finally:
        container.close()


def test_the_audits_gas_test_at_nothing_no_longer_passes(api: ApiWorld) -> None:
    pipe = api.item()
    api.pass_all(pipe, until="pressure_test")
    nothing = {"pipe_material": "metal", "working_pressure_mpa": 0, "test_pressure_mpa": 0, "hold_time_min": 0,
               "pressure_drop_mpa": 5, "gauge_id": "G-1"}
    body = problem(api.inspect(pipe, "pressure_test", measurements={**nothing, "medium": "gas"}), 422,
                   "invalid_measurement")
    assert "供热" in body["detail"]  # the media it takes, in Chinese; gas lines are their own kind
    body = problem(api.inspect(pipe, "pressure_test", measurements={**nothing, "medium": "heating"}), 422,
                   "inspection_limits_not_met")
    assert "供热管道试验压力≥0.6 MPa" in body["checks"]
    drain = {"medium": "drainage", "pipe_material": "concrete", "nominal_diameter": "300", "hold_time_min": 30,
             "test_head_m": 2, "seepage_m3_per_day_km": 30}
    body = problem(api.inspect(pipe, "pressure_test", measurements=drain), 422, "inspection_limits_not_met")
    assert body["checks"] == ["钢筋混凝土管 DN300 实测渗水量≤21.62 m³/(24h·km)"]

    gas = api.item("gas_pipe_relocation")
    api.pass_all(gas, until="strength_test")
    body = problem(api.inspect(gas, "strength_test", measurements={
        "pipe_material": "steel", "design_pressure_mpa": 0.2, "test_pressure_mpa": 0, "hold_time_min": 0,
        "pressure_drop_mpa": 5, "gauge_id": "G-1"}), 422, "inspection_limits_not_met")
    assert set(body["checks"]) == {"强度试验压力≥1.5倍设计压力", "钢管强度试验压力≥0.3 MPa", "强度试验稳压≥1 h",
                                   "强度试验无压力降"}
    tight = {"pressure_class": "5_kpa_and_above", "design_pressure_mpa": 0.2, "test_pressure_mpa": 0.23,
             "hold_time_min": 1440, "corrected_drop_pa": 100, "gauge_id": "G-2"}
    problem(api.inspect(gas, "tightness_test", measurements=tight), 409, "hold_point_out_of_order")


def test_the_works_kinds_show_each_limits_source(api: ApiWorld) -> None:
    gas = api.ok("GET", "/api/v1/works-kinds/gas_pipe_relocation", api.contractor)
    assert gas["name_zh"] == "燃气管线迁移"
    assert [h["code"] for h in gas["hold_points"]][-3:] == ["backfill_restoration", "tightness_test",
                                                          "utility_handover"]
    checks = [c for h in gas["hold_points"] for c in h["checks"]]
    assert checks and all(c["source"] for c in checks) and all("未能" in c["source_note"] for c in checks)
    pipe = api.ok("GET", "/api/v1/works-kinds/pipe_relocation", api.contractor)
    test = next(h for h in pipe["hold_points"] if h["code"] == "pressure_test")
    assert {c["source"].split(" 第")[0] for c in test["checks"]} == {"GB 50242-2002", "GB 50268-2008"}


def test_an_admin_cannot_set_an_acceptance_rule_below_the_citys_floor(api: ApiWorld) -> None:
    rule = f"/api/v1/projects/{api.project_id}/acceptance-rule"
    body = problem(api.call("PUT", rule, api.admin, json={"min_signed": "0.000001", "min_accept": "0.000001"}),
                   422, "acceptance_rule_below_floor")
    assert "1/2" in body["detail"] and "2/3" in body["detail"] and "下限" in body["detail"]
    problem(api.call("PUT", rule, api.admin, json={"min_signed": "2/3", "min_accept": "1/2"}), 422,
            "acceptance_rule_below_floor")
    problem(api.call("PUT", rule, api.supervisor, json={"min_signed": "1/2", "min_accept": "2/3"}), 403,
            "role_not_permitted")
    api.ok("PUT", rule, api.admin, json={"min_signed": "1/2", "min_accept": "2/3"})
