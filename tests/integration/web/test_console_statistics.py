"""Issue 19 in the console: 统计 (plan against actual, the same figures as GET /api/v1/statistics, the plan set by an
admin through its form once however often it is sent) and 导入 (upload, the dry run's Chinese errors, apply, the
same file again recording nothing). Who is refused: a resident, a supervisor, a station for the admin's forms,
another district's people for a district not theirs, an anonymous visitor sent to sign in.

Real parts: the app on SQLite with its read models, sessions and CSRF as a browser has them, workbooks by openpyxl.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient

from domain.actors import Role
from domain.plan import plan_id
from services.bootstrap import Container
from services.deadline_scan import site_today
from tests.integration.api.test_import import ITEM_ROWS, PROJECT_ROWS, XLSX, workbook
from tests.integration.web.console_world import OTHER_DISTRICT, ConsoleWorld, person, seed, user_id
from tests.integration.web.test_console_pages import Browser, key, signed_in

pytestmark = pytest.mark.integration
DISTRICT = "徐汇区"


@pytest.fixture
def world(client: TestClient, container: Container) -> ConsoleWorld:
    return seed(client, container)


@pytest.fixture
def admin(client: TestClient, container: Container, world: ConsoleWorld) -> Browser:
    return signed_in(client, container, user_id(world.api, world.api.admin))


def log_head(container: Container) -> int:
    return int(container.ledger.recorder.max_notification_id() or 0)


def cells(page: httpx.Response, heading: str) -> list[str]:
    """The cells of the summary row headed `heading` (plan, actual, ratio among them)."""
    row = re.search(rf'<th scope="row">{re.escape(heading)}</th>(.*?)</tr>', page.text, re.S)
    assert row, heading
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def test_the_statistics_page_shows_the_apis_figures_with_downloads_and_a_chart(
        admin: Browser, world: ConsoleWorld, container: Container) -> None:
    year = site_today(container.settings).year
    page = admin.get(f"/console/statistics?year={year}&district={DISTRICT}")
    assert page.status_code == 200, page.text
    figures = world.api.ok("GET", f"/api/v1/statistics?year={year}&district={DISTRICT}", world.api.admin)
    for row in figures["rows"]:  # the same function's figures, each in its row
        assert cells(page, row["name_zh"])[2] == row["actual"], row
    started = next(r for r in figures["rows"] if r["measure"] == "communities_started")
    assert started["actual"] == "1"  # the seeded project's items were inspected this year
    query = urlencode({"year": year, "district": DISTRICT}).replace("&", "&amp;")
    assert f'href="/api/v1/statistics.xlsx?{query}"' in page.text
    assert f'href="/api/v1/statistics.csv?{query}"' in page.text
    assert 'data-chart="chart-kinds"' in page.text and '<script type="application/json" id="chart-kinds">' in page.text
    assert "尚未设定年度计划" in page.text
    assert '<a href="/console/statistics">统计</a>' in page.text and '<a href="/console/import">导入</a>' in page.text
    xlsx = admin.get(f"/api/v1/statistics.xlsx?year={year}&district={DISTRICT}")  # the link, with the session
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX
    city = admin.get(f"/console/statistics?year={year}")
    assert city.status_code == 200 and "全市" in city.text and f'<option value="{OTHER_DISTRICT}"' in city.text
    assert "请在上方选择一个区" in city.text  # a city's plan is its districts' plans
    assert admin.get("/console/statistics?year=1999").status_code == 422


def test_an_admin_sets_the_plan_from_the_page_once_however_often_the_form_is_sent(
        admin: Browser, container: Container) -> None:
    year = site_today(container.settings).year
    page = admin.get(f"/console/statistics?year={year}&district={DISTRICT}")
    form = {"idempotency_key": key(page, "/console/statistics/plan"), "year": str(year), "district": DISTRICT,
            "communities": "4", "households": "1200", "pipe_m": "2500.5", "cable_buried_m": "800",
            "cable_removed_m": "", "lifts": "6", "kind_pipe_relocation": "10", "kind_elevator_installation": "6"}
    saved = admin.post("/console/statistics/plan", form)
    assert (saved.status_code, saved.headers["location"]) == (
        303, f"/console/statistics?{urlencode({'year': year, 'district': DISTRICT})}&saved=1")
    plan = container.ledger.annual_plan(plan_id(year, DISTRICT))
    assert plan is not None and plan.targets["communities"] == "4" and plan.targets["pipe_m"] == "2500.5"
    assert plan.items_by_kind == {"pipe_relocation": 10, "elevator_installation": 6}
    head = log_head(container)
    again = admin.post("/console/statistics/plan", form)  # sent twice (a double click, a reload)
    assert again.status_code == 303 and log_head(container) == head

    shown = admin.get(saved.headers["location"])
    assert f"{DISTRICT}{year}年度计划已保存" in shown.text
    assert cells(shown, "新开工小区") == ["个", "4", "1", "25.0%"]
    assert cells(shown, "改造管网长度")[1] == "2.5005"  # km, from metres, exactly
    assert 'value="2500.5"' in shown.text and 'name="kind_pipe_relocation" inputmode="numeric" value="10"' in shown.text

    refused = admin.post("/console/statistics/plan", {**form, "idempotency_key": key(shown, "/console/statistics/plan"),
                                                      "households": "-3", "lifts": "很多"})
    assert refused.status_code == 422
    assert "惠及居民户数" in refused.text and "加装电梯" in refused.text and "年度计划未保存" in refused.text
    assert log_head(container) == head
    stale = admin.post("/console/statistics/plan", {**form, "idempotency_key": "x"})
    assert stale.status_code == 422 and "表单已失效" in stale.text
    forged = admin.post("/console/statistics/plan", form, csrf=False)
    assert forged.status_code == 403 and log_head(container) == head


def test_people_outside_a_district_or_without_the_role_are_refused(
        client: TestClient, container: Container, world: ConsoleWorld) -> None:
    year = site_today(container.settings).year
    station = signed_in(client, container, user_id(world.api, world.api.station))
    own = station.get(f"/console/statistics?year={year}")
    assert own.status_code == 200 and f"{year}年 {DISTRICT}" in own.text
    assert "年度计划由业主单位管理员设定" in own.text and 'action="/console/statistics/plan"' not in own.text
    assert '<a href="/console/import">导入</a>' not in own.text
    assert station.get(f"/console/statistics?district={OTHER_DISTRICT}").status_code == 403
    plan = {"idempotency_key": "station-plan-0001", "year": str(year), "district": DISTRICT, "communities": "9"}
    refused = station.post("/console/statistics/plan", plan)
    assert refused.status_code == 403 and "只有业主单位管理员可以设定年度计划" in refused.text
    assert station.get("/console/import").status_code == 403

    other_admin = signed_in(client, container, person(container, Role.ADMIN, OTHER_DISTRICT, name="黄浦区业主"))
    assert other_admin.get(f"/console/statistics?district={DISTRICT}").status_code == 403
    refused = other_admin.post("/console/statistics/plan", {**plan, "idempotency_key": "other-admin-0001"})
    assert refused.status_code == 403 and "金牛花苑" not in refused.text
    assert container.ledger.annual_plan(plan_id(year, DISTRICT)) is None

    for user in (user_id(world.api, world.api.residents[0]), user_id(world.api, world.api.supervisor)):
        browser = signed_in(client, container, user)
        for path in ("/console/statistics", f"/console/statistics?district={DISTRICT}", "/console/import"):
            response = browser.get(path)
            assert response.status_code == 403 and "监管台供安全质量监督站与业主单位使用" in response.text, path
        assert browser.post("/console/statistics/plan", plan).status_code == 403
        checked = browser.client.post("/console/import/check", headers=browser.headers,
                                      data={"csrf_token": browser.csrf},
                                      files={"file": ("x.xlsx", workbook(PROJECT_ROWS, ITEM_ROWS), XLSX)})
        assert checked.status_code == 403
    anonymous = Browser(client, None)
    for path in ("/console/statistics", "/console/import"):
        assert anonymous.get(path).headers.get("location") == "/sign-in"
    assert container.ledger.annual_plan(plan_id(year, DISTRICT)) is None


def upload(browser: Browser, content: bytes, name: str = "徐汇区2026.xlsx", csrf: bool = True) -> httpx.Response:
    return browser.client.post("/console/import/check", headers=browser.headers,
                               data={"csrf_token": browser.csrf if csrf else ""}, files={"file": (name, content, XLSX)})


def test_an_admin_checks_a_workbook_reads_its_errors_fixes_it_and_imports_it_once(
        admin: Browser, container: Container, client: TestClient) -> None:
    form = admin.get("/console/import")
    assert form.status_code == 200 and 'href="/api/v1/imports/projects/template.xlsx"' in form.text
    assert admin.get("/api/v1/imports/projects/template.xlsx").headers["content-type"] == XLSX
    head = log_head(container)
    bad_items = [*ITEM_ROWS, ["田林十二村", DISTRICT, "修自行车棚", "车棚", "1号楼"]]
    checked = upload(admin, workbook(PROJECT_ROWS, bad_items))
    assert checked.status_code == 422
    assert "文件中有 1 处错误，未导入任何内容" in checked.text
    assert re.search(r"<td[^>]*>工程事项</td><td[^>]*>5</td><td>工程类型“修自行车棚”无效", checked.text)
    assert 'action="/console/import/apply"' not in checked.text and log_head(container) == head

    fixed = upload(admin, workbook(PROJECT_ROWS, ITEM_ROWS))
    assert fixed.status_code == 200 and "检查通过，没有错误" in fixed.text and log_head(container) == head
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', fixed.text)
    assert digest
    applied = admin.post("/console/import/apply", {"digest": digest.group(1), "filename": "徐汇区2026.xlsx"})
    assert applied.status_code == 200, applied.text
    assert "导入完成：徐汇区2026.xlsx 记录了 9 条命令" in applied.text
    after = log_head(container)
    assert after > head
    again = admin.post("/console/import/apply", {"digest": digest.group(1), "filename": "徐汇区2026.xlsx"})
    assert again.status_code == 200 and "记录了 0 条命令" in again.text and log_head(container) == after
    rechecked = upload(admin, workbook(PROJECT_ROWS, ITEM_ROWS))
    assert "均已登记，内容相同，无需再导入" in rechecked.text

    assert admin.post("/console/import/apply", {"digest": "0" * 64}).status_code == 422
    assert admin.post("/console/import/apply", {"digest": "../../etc/passwd"}).status_code == 422
    assert upload(admin, b"not a workbook").status_code == 422
    forged = upload(admin, workbook(PROJECT_ROWS, ITEM_ROWS), csrf=False)
    assert forged.status_code == 403
    other = signed_in(client, container, person(container, Role.ADMIN, OTHER_DISTRICT, name="黄浦区业主"))
    theirs = upload(other, workbook([["新小区", DISTRICT]], []))
    assert theirs.status_code == 422 and "不在您的管辖范围内" in theirs.text
    assert log_head(container) == after
