"""Issue 19 in a real Chromium against the real app (SQLite, SeaweedFS S3), the pages' CSP enforced: the city's
admin signs in, opens 统计 from the navigation, picks a district, sets its year's plan (the completion rate
appears), downloads the figures as XLSX (the plan and the actual in it), then opens 导入, uploads a workbook with
one bad row, reads the Chinese error in the table, uploads the fixed file and imports it. Screenshots at 1280×800
go to tests/artifacts/console-statistics*.png. axe-core finds no serious violation on either page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from openpyxl import load_workbook

from domain.actors import Role
from services.bootstrap import Container
from tests.browser.conftest import screenshot_path
from tests.browser.test_accessibility import AXE, violations
from tests.browser.test_sign_in_browser import PASSWORD, TIMEOUT_MS, with_password
from tests.integration.api.test_import import ITEM_ROWS, PROJECT_ROWS, XLSX, workbook
from tests.integration.web.console_world import ConsoleWorld, seed

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FilePayload, Page, ViewportSize

pytestmark = pytest.mark.integration
PHONE = "13800000071"
DISTRICT = "徐汇区"
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
BAD_ROW: list[Any] = ["田林十二村", DISTRICT, "修自行车棚", "车棚", "1号楼"]


def city_admin(container: Container) -> None:
    """The city's admin with a password, as a link and the person's first visit make one."""
    with_password(container, Role.ADMIN, "市住建委王芳", PHONE, None)


@pytest.fixture
def world(server: str, container: Container) -> Iterator[ConsoleWorld]:
    with httpx.Client(base_url=server, timeout=30) as client:
        seeded = seed(client, container)
        city_admin(container)
        yield seeded


def _page(browser: Browser, bypass_csp: bool = False) -> Iterator[Page]:
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN", accept_downloads=True, bypass_csp=bypass_csp)
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from _page(browser)


def sign_in(page: Page, server: str) -> None:
    page.goto(f"{server}/sign-in")
    page.get_by_label("手机号码").fill(PHONE)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{server}/console/**")


def shot(page: Page, name: str) -> None:
    page.screenshot(path=screenshot_path(f"console-statistics{name}"), full_page=True)


def xlsx(name: str, projects: list[list[Any]], items: list[list[Any]]) -> FilePayload:
    return {"name": name, "mimeType": XLSX, "buffer": workbook(projects, items)}


def test_the_admin_plans_the_year_downloads_the_figures_and_imports_a_workbook(
        page: Page, server: str, world: ConsoleWorld) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load" not in m.text
            else None)  # a CSP refusal or a script error; failed loads are named below with their address
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and not (
        r.url.endswith("/favicon.ico") or (r.status == 422 and r.url.endswith("/console/import/check"))) else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, server)

    # 统计 from the navigation: the city, then the district
    page.get_by_role("navigation").get_by_role("link", name="统计").click()
    page.wait_for_selector("h1 >> text=全市")
    page.get_by_label("范围", exact=True).select_option(DISTRICT)
    page.get_by_role("button", name="查看").click()
    page.wait_for_selector(f"h1 >> text={DISTRICT}")
    page.wait_for_selector(".chart svg")  # ECharts drew under the CSP, from the JSON in the page
    assert "尚未设定年度计划" in page.inner_text("main")
    shot(page, "")

    # the plan, set from the page: the completion rate appears beside the actual
    page.get_by_label("计划开工小区（个）").fill("4")
    page.get_by_label("惠及居民户数（户）").fill("1200")
    page.get_by_label("改造管网长度（米）").fill("2500")
    page.get_by_label("管线迁移", exact=True).fill("10")
    page.get_by_role("button", name="保存年度计划").click()
    page.wait_for_selector("text=年度计划已保存")
    started = page.locator("tr", has=page.locator("th", has_text="新开工小区")).inner_text()
    assert "4" in started and "25.0%" in started, started
    page.wait_for_selector("[data-chart='chart-completion'] svg")
    shot(page, "-plan")

    # the figures as XLSX: the plan and the actual, as numbers
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 Excel（XLSX）").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes()))["计划与完成"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["communities_started"][3:5] == (4, 1) and rows["households"][3] == 1200

    # 导入: a workbook with one bad row is checked, its error read in Chinese; nothing imported
    page.get_by_role("navigation").get_by_role("link", name="导入").click()
    page.get_by_label("工作簿（.xlsx，不超过 20 MB）").set_input_files(
        xlsx("徐汇区2026.xlsx", PROJECT_ROWS, [*ITEM_ROWS, BAD_ROW]))
    page.get_by_role("button", name="检查文件（不导入）").click()
    page.wait_for_selector("table.errors-table")
    error_row = page.locator("table.errors-table tbody tr").first.inner_text()
    assert "工程事项" in error_row and "5" in error_row and "工程类型“修自行车棚”无效" in error_row, error_row
    assert page.get_by_role("button", name="导入", exact=True).count() == 0
    shot(page, "-import-errors")

    # fixed and checked again, then imported
    page.get_by_label("工作簿（.xlsx，不超过 20 MB）").set_input_files(
        xlsx("徐汇区2026-修正.xlsx", PROJECT_ROWS, ITEM_ROWS))
    page.get_by_role("button", name="检查文件（不导入）").click()
    page.wait_for_selector("text=检查通过，没有错误")
    page.get_by_role("button", name="导入", exact=True).click()
    page.wait_for_selector("text=导入完成")
    assert "记录了 9 条命令" in page.inner_text("main")
    shot(page, "-import-done")
    names = {p["name"] for p in world.api.ok("GET", "/api/v1/projects?limit=50", world.api.admin)["items"]}
    assert {"田林十二村", "康健新村"} <= names
    assert problems == []


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE} (npm ci)")
    # axe is injected as a script of the test's own: only here is the pages' CSP bypassed (the story enforces it)
    yield from _page(browser, bypass_csp=True)


def test_the_statistics_and_import_pages_have_no_serious_accessibility_violation(
        axe_page: Page, server: str, world: ConsoleWorld) -> None:
    page = axe_page
    sign_in(page, server)
    checked: dict[str, list[dict[str, Any]]] = {}
    page.goto(f"{server}/console/statistics?district={DISTRICT}")
    page.wait_for_selector(".chart svg")
    checked["statistics"] = violations(page)
    page.get_by_label("惠及居民户数（户）").fill("-3")
    page.get_by_role("button", name="保存年度计划").click()
    page.wait_for_selector("text=年度计划未保存")
    checked["statistics-refused"] = violations(page)
    page.goto(f"{server}/console/import")
    checked["import"] = violations(page)
    page.get_by_label("工作簿（.xlsx，不超过 20 MB）").set_input_files(
        xlsx("坏文件.xlsx", PROJECT_ROWS, [*ITEM_ROWS, BAD_ROW]))
    page.get_by_role("button", name="检查文件（不导入）").click()
    page.wait_for_selector("table.errors-table")
    checked["import-errors"] = violations(page)
    serious = {name: [v for v in found if v["impact"] in ("serious", "critical")] for name, found in checked.items()}
    assert serious == {name: [] for name in checked}, serious
