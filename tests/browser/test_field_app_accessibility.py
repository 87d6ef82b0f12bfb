"""axe-core (npm, served from node_modules) finds no serious or critical WCAG 2 A/AA violation on the tablet
app's screens, in landscape and portrait: the enrolment, projects, an item under a stop-work order, a hold
point's form with its defect part, the sync queue with a refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from services.bootstrap import Container
from tests.browser.conftest import screenshot_path
from tests.browser.field_world import (
    PASSWORD,
    TABLET,
    TABLET_PORTRAIT,
    FieldWorld,
    field_world,
    jpeg_file,
    record,
    sync_once,
    tablet,
)
from tests.browser.test_accessibility import AXE, violations

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ViewportSize

pytestmark = pytest.mark.integration


@pytest.fixture
def world(container: Container) -> Iterator[FieldWorld]:
    with field_world(container) as built:
        yield built


@pytest.mark.parametrize("viewport", [TABLET, TABLET_PORTRAIT], ids=["1024x768", "768x1024"])
def test_the_tablet_app_has_no_serious_accessibility_violations(
        browser: Browser, world: FieldWorld, viewport: ViewportSize, tmp_path: Path) -> None:
    assert AXE.exists(), f"axe-core is not installed at {AXE} (npm ci)"
    size = f"{viewport['width']}x{viewport['height']}"
    pipe = world.api.item("pipe_relocation", location="3号楼北侧")
    world.api.ok("POST", f"/api/v1/works-items/{pipe}/stop-work", world.api.station, json={"reason": "沟槽未设围挡"})
    checked: dict[str, list[dict[str, object]]] = {}
    with tablet(browser, viewport, bypass_csp=True) as context:  # bypassed only to let the test's axe-core in
        page = context.new_page()

        def check(name: str) -> None:
            checked[name] = [v for v in violations(page) if v["impact"] in ("serious", "critical")]
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=screenshot_path(f"field-{name}-{size}"), full_page=True)

        page.goto(f"{world.url}/sign-in")
        page.get_by_label("手机号码").fill(world.phone)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录", exact=True).click()
        page.get_by_role("button", name="启用这台平板").wait_for()
        check("enrol")
        page.get_by_role("button", name="启用这台平板").click()
        page.get_by_role("heading", name="我的项目").wait_for()
        check("home")
        page.goto(f"{world.url}/field/#/item/{pipe}")
        page.get_by_role("heading", name="检查点").wait_for()
        check("item")
        page.goto(f"{world.url}/field/#/item/{pipe}/hp/excavation")
        page.locator(".choice-fail").click()
        page.locator("#m-depth_m").fill("-2")
        page.get_by_role("button", name="保存到本机").click()
        check("form")
        photo, _ = jpeg_file(tmp_path, "trench")
        record(page, pipe, "excavation", {"depth_m": "1.2", "width_m": "0.8"}, photos=[photo])
        sync_once(page)  # refused: survey not passed, and a stop-work order in force
        page.goto(f"{world.url}/field/#/queue")
        page.locator(".command.refused").wait_for()
        reason = page.locator(".command.refused .reason").inner_text()
        assert "沟槽开挖" in reason and "excavation" not in reason, "the hold points by their Chinese names"
        check("queue")
    assert {name: found for name, found in checked.items() if found} == {}
