"""Issue 19: a year's plan against actual, over HTTP, as JSON, CSV and XLSX, equal to sums over the events.

Real parts: the app on SQLite with its projections running, photos in SeaweedFS, the XLSX read back by
openpyxl. The expected figures are computed here from the stored events themselves, independently of the
read model the route answers from.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from openpyxl import load_workbook

from domain.templates.frozen import FrozenTemplate
from domain.works_item_events import InspectionRecorded, Registered
from services.deadline_scan import site_today
from tests.http_support import ApiWorld
from tests.integration.api.test_users_and_projects import problem

pytestmark = pytest.mark.integration
QUANTITY_OF_MEASURE = {"pipe_km": "pipe_laid_m", "cable_buried_km": "duct_built_m",
                       "cable_removed_km": "old_cable_removed_m", "lifts_registered": "elevators_registered"}


def sums_over_the_events(api: ApiWorld, item_ids: list[str]) -> dict[str, Decimal]:
    """Each item's quantities as its events state them (a later passed measurement replaces an earlier one)."""
    totals: dict[str, Decimal] = {}
    for item_id in item_ids:
        events = list(api.container.ledger.events.get(UUID(item_id)))
        template = FrozenTemplate(next(e for e in events if isinstance(e, Registered)).template).parsed
        latest: dict[str, Decimal] = {}
        for event in events:
            if isinstance(event, InspectionRecorded) and event.result in ("pass", "conditional"):
                hold_point = template.hold_point(event.hold_point)
                assert hold_point is not None
                for m in hold_point.measurements:
                    value = event.measurements.get(m.code)
                    if m.quantity and value is not None:
                        latest[m.quantity] = value if isinstance(value, Decimal) else Decimal(1)
        for quantity, amount in latest.items():
            totals[quantity] = totals.get(quantity, Decimal(0)) + amount
    return totals


def rows(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["measure"]: row for row in figures["rows"]}


@pytest.fixture
def year(api: ApiWorld) -> int:
    return site_today(api.container.settings).year


def test_plan_against_actual_equals_the_sums_over_the_events_in_json_csv_and_xlsx(api: ApiWorld, year: int) -> None:
    plan = {"year": year, "district": "徐汇区", "communities": 4, "households": 2000, "pipe_m": "1000",
            "cable_buried_m": "480", "cable_removed_m": "600", "lifts": 2, "items_by_kind": {"pipe_relocation": 2}}
    assert api.ok("POST", "/api/v1/statistics/plans", api.admin, json=plan)["changed"] is True
    assert api.ok("POST", "/api/v1/statistics/plans", api.admin, json=plan)["changed"] is False
    api.ok("POST", f"/api/v1/projects/{api.project_id}/funding", api.admin,
           json={"category": "basic", "funding_sources": ["central_budget", "local_special_bonds"]})
    pipe = api.item("pipe_relocation")
    wires = api.item("flying_wire_burial")
    lift = api.item("elevator_installation", links={"pipe_relocation_cleared": pipe})
    late = api.item("pipe_relocation", planned_end=f"{year}-01-05")  # registered, never finished: behind
    for item_id in (pipe, wires, lift):
        api.pass_all(item_id)
    last = api.inspect(late, "survey_and_marking")
    assert last.status_code == 201, last.text
    after = last.headers["X-Log-Position"]

    figures = api.ok("GET", f"/api/v1/statistics?year={year}&after={after}", api.admin)
    by_measure = rows(figures)
    expected = sums_over_the_events(api, [pipe, wires, lift, late])
    for measure, quantity in QUANTITY_OF_MEASURE.items():
        scale = Decimal(1) if measure == "lifts_registered" else Decimal(1000)
        assert Decimal(by_measure[measure]["actual"]) == (expected.get(quantity, Decimal(0)) / scale), measure
    assert expected["pipe_laid_m"] > 0 and expected["elevators_registered"] == 1
    assert by_measure["communities_started"] == {"measure": "communities_started", "name_zh": "新开工小区",
                                                 "unit_zh": "个", "plan": "4", "actual": "1", "ratio": "0.25"}
    assert by_measure["households"]["actual"] == "430" and by_measure["households"]["plan"] == "2000"
    assert by_measure["pipe_km"]["plan"] == "1"
    assert by_measure["items_behind"]["actual"] == "1"
    assert by_measure["communities_completed"]["actual"] == "0"
    assert {k["kind"]: k["actual"] for k in figures["items_by_kind"]} == {
        "pipe_relocation": 2, "flying_wire_burial": 1, "elevator_installation": 1}
    funding = {f["code"]: f["communities"] for f in figures["by_funding_source"]}
    assert funding["central_budget"] == 1 and funding["local_special_bonds"] == 1 and funding["social_capital"] == 0
    assert {f["code"]: f["communities"] for f in figures["by_category"]} == {"basic": 1, "improvement": 1, "upgrade": 0}
    names = {f["code"]: f["name_zh"] for f in figures["by_funding_source"]}
    assert names["local_special_bonds"] == "地方专项债"

    city = api.ok("GET", f"/api/v1/statistics?year={year}", api.admin)
    assert city["district"] is None and rows(city)["pipe_km"] == by_measure["pipe_km"]
    assert rows(api.ok("GET", f"/api/v1/statistics?year={year - 1}", api.admin))["pipe_km"]["actual"] == "0"

    response = api.call("GET", f"/api/v1/statistics.csv?year={year}&district=徐汇区", api.admin)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[1] == ["指标代码", "指标", "单位", "年度计划", "实际完成", "完成率"]
    csv_rows = {r[0]: r for r in table[2:10]}
    assert csv_rows["pipe_km"][4] == by_measure["pipe_km"]["actual"]
    assert csv_rows["communities_completed"][3] == ""

    response = api.call("GET", f"/api/v1/statistics.xlsx?year={year}&district=徐汇区", api.admin)
    assert response.status_code == 200 and "spreadsheetml" in response.headers["content-type"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["计划与完成", "按工程类型", "按资金来源和类别"]
    sheet = book["计划与完成"]
    xlsx_rows = {r[0]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert Decimal(str(xlsx_rows["pipe_km"][4])) == Decimal(by_measure["pipe_km"]["actual"])
    assert xlsx_rows["communities_started"][3:6] == (4, 1, 0.25)  # numbers a clerk can add up, not text
    assert xlsx_rows["lifts_registered"][4] == 1


def test_who_may_read_and_plan_which_district(api: ApiWorld, year: int) -> None:
    path = f"/api/v1/statistics?year={year}"
    problem(api.call("GET", path, api.supervisor), 403, "role_not_permitted")
    problem(api.call("GET", path, api.residents[0]), 403, "role_not_permitted")
    other_admin = api.user("admin", district="黄浦区")
    problem(api.call("GET", f"{path}&district=徐汇区", other_admin), 403, "out_of_scope")
    assert api.ok("GET", path, other_admin)["district"] == "黄浦区"  # their own district, not the city
    assert api.ok("GET", path, api.station)["district"] == "徐汇区"
    problem(api.call("GET", f"{path}&district=黄浦区", api.station), 403, "out_of_scope")
    problem(api.call("GET", f"/api/v1/statistics.xlsx?year={year}&district=徐汇区", other_admin), 403,
            "out_of_scope")
    problem(api.call("GET", "/api/v1/statistics?year=1900", api.admin), 422, "validation_error")
    assert api.call("GET", path, "not-a-token").status_code == 401

    plan = {"year": year, "district": "徐汇区", "communities": 1}
    problem(api.call("POST", "/api/v1/statistics/plans", api.station, json=plan), 403, "role_not_permitted")
    problem(api.call("POST", "/api/v1/statistics/plans", other_admin, json=plan), 403, "out_of_scope")
    refused = problem(api.call("POST", f"/api/v1/projects/{api.project_id}/funding", other_admin,
                               json={"category": "basic"}), 403, "out_of_scope")
    assert "管辖" in refused["detail"]
    problem(api.call("POST", f"/api/v1/projects/{api.project_id}/funding", api.admin,
                     json={"funding_sources": ["彩票"]}), 422, "validation_error")
