"""The station inspector's morning, in a real Chromium against the real app (SQLite, SeaweedFS S3): signs in,
finds the late inspection and the overdue defect on the district overview (and not the clean item), opens the
item and a photo, orders stop-work (a supervisor's pass is then refused over the API), lifts it, raises a defect,
and sees the overview change. The pages' CSP is enforced: htmx, ECharts and console.js must work under it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest

from domain.actors import Role
from services.bootstrap import Container
from tests import images
from tests.browser.conftest import screenshot_path
from tests.browser.test_sign_in_browser import PASSWORD, TIMEOUT_MS, with_password
from tests.integration.web.console_world import ConsoleWorld, seed

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FilePayload, Page, ViewportSize

pytestmark = pytest.mark.integration
SIZES: dict[str, ViewportSize] = {"1280x800": {"width": 1280, "height": 800},
                                  "1440x900": {"width": 1440, "height": 900}}
PHONE = "13800000061"


def inspector(container: Container) -> None:
    """A station inspector of 徐汇区 with a password, as an admin's link and the person's first visit make one."""
    with_password(container, Role.STATION, "李建国", PHONE, "徐汇区")


@pytest.fixture
def world(server: str, container: Container) -> Iterator[ConsoleWorld]:
    with httpx.Client(base_url=server, timeout=30) as client:
        seeded = seed(client, container)
        inspector(container)
        yield seeded


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=SIZES[request.param], locale="zh-CN", accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    opened.size_name = request.param  # type: ignore[attr-defined]
    yield opened
    context.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=screenshot_path(f"console-{name}-{page.size_name}"), full_page=True)  # type: ignore[attr-defined]


def test_the_station_finds_trouble_reads_the_record_and_acts(page: Page, server: str, world: ConsoleWorld) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load" not in m.text
            else None)  # a CSP refusal or a script error; failed loads are named below with their address
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    # signs in, and opens the console: their district's overview, what needs attention first
    page.goto(f"{server}/sign-in")
    page.get_by_label("手机号码").fill(PHONE)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{server}/console/districts/**")  # a station's home after signing in is the console
    page.wait_for_selector(".chart svg")  # ECharts drew under the CSP, from the JSON in the page
    shot(page, "overview")
    attention = page.locator("#attention")
    assert attention.get_by_role("link", name="2号楼给水管线迁移").is_visible()
    assert "记录时间与到达服务器时间相差过久" in attention.inner_text()
    assert attention.get_by_role("link", name="5号楼燃气管线迁移").is_visible()
    assert "3 天" in attention.inner_text()
    assert "8号楼排水管线迁移" not in attention.inner_text()
    open_defects = page.locator(".figures div", has_text="未关闭整改").locator("dd").inner_text()

    # opens the late item: its record, then a photo with what the camera wrote
    attention.get_by_role("link", name="2号楼给水管线迁移").click()
    page.wait_for_selector("text=完整记录")
    assert "设备时间" in page.inner_text("main") and "记录时间与到达服务器时间相差过久" in page.inner_text("main")
    page.wait_for_function("document.querySelector('.thumb img').naturalWidth > 0")  # the real thumbnail loaded
    shot(page, "item")
    page.get_by_role("link", name="核验哈希链").click()  # htmx swaps the result in place
    page.wait_for_selector("#verify-result >> text=哈希链完整")
    page.locator(".thumb").first.click()
    page.wait_for_selector("text=拍摄设备")
    page.wait_for_function("document.querySelector('.photo-view img').naturalWidth > 0")
    details = page.inner_text(".facts")
    assert "2026-11-20 09:30:00" in details and "HUAWEI MatePad 11" in details and "31.18320" in details
    shot(page, "photo")
    page.get_by_role("link", name="回到工程事项").click()

    # orders stop-work; a supervisor's pass over the API is then refused
    item_url = page.url.split("?")[0]
    page.get_by_label("停工原因").fill("沟槽开挖未设围挡，存在坠落风险")
    page.get_by_role("button", name="下达停工令").click()
    page.wait_for_selector("text=停工令已下达")
    shot(page, "stop-work")
    api = world.api
    refused = api.inspect(world.late, "excavation")
    assert refused.status_code == 409 and refused.json()["code"] == "stop_work_in_force"
    page.goto(f"{server}/console")
    assert "沟槽开挖未设围挡" in page.locator("#attention").inner_text()

    # lifts it, then raises a defect from the page
    page.goto(item_url)
    page.get_by_label("整改落实情况（选填）").fill("围挡与警示灯已补设，复查合格")
    page.get_by_role("button", name="解除停工令").click()
    page.wait_for_selector("text=停工令已解除")
    # a spot check at the excavation, with a photo taken on site (uploaded by the page as it is chosen)
    page.get_by_label("抽查的检查点").select_option("excavation")
    page.get_by_role("button", name="填写抽查记录").click()
    page.get_by_label("开挖深度（m）").fill("1.2")
    page.get_by_label("开挖宽度（m）").fill("0.8")
    for box in page.locator("form[action$='/spot-check'] input[type=checkbox]").all():
        box.check()
    trench: FilePayload = {"name": "沟槽.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg("trench", (320, 240))}
    page.locator("#spot_check-photos").set_input_files(files=[trench])
    page.wait_for_selector("#spot_check-photo-status >> text=已上传 1 张照片")
    page.get_by_label("抽查结论").select_option("pass")
    page.get_by_role("button", name="记录抽查").click()
    page.wait_for_selector("text=监督抽查已记录")
    assert "沟槽开挖：合格" in page.inner_text(".timeline")

    page.get_by_label("问题描述").fill("沟槽边堆土距槽边不足 1 m")
    page.get_by_label("严重程度").select_option("critical")
    page.get_by_label("整改期限（选填）").fill((date.today() + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="开具整改通知").click()
    page.wait_for_selector("text=整改通知已开具")
    assert "沟槽边堆土距槽边不足 1 m" in page.locator("#defects-title + *, .defect").all_inner_texts()[-1]
    shot(page, "defect-raised")

    # the overview has moved on: no stop-work in force, one more open defect
    page.goto(f"{server}/console")
    assert "沟槽开挖未设围挡" not in page.locator("#attention").inner_text()
    now_open = page.locator(".figures div", has_text="未关闭整改").locator("dd").inner_text()
    assert int(now_open) == int(open_defects) + 1
    assert problems == []
