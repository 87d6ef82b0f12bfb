"""axe-core (npm, from node_modules) finds no serious or critical WCAG 2 A/AA violation on any console page, at the
laptop sizes the station uses, with an action's refusal shown and a spot-check form open."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from domain.actors import Role
from services.api.authentication import SESSION_COOKIE
from services.bootstrap import Container
from tests.browser.conftest import screenshot_path
from tests.browser.test_accessibility import AXE, violations
from tests.browser.test_sign_in_browser import TIMEOUT_MS
from tests.integration.web.console_world import ConsoleWorld, person, seed, session_for, user_id

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

pytestmark = pytest.mark.integration
SIZES: dict[str, ViewportSize] = {"1280x800": {"width": 1280, "height": 800},
                                  "1440x900": {"width": 1440, "height": 900}}


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    if not AXE.exists():
        reason = f"axe-core is not installed at {AXE} (npm ci)"
        if os.environ.get("SITELEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    # axe is injected as a script of the test's own: only here is the pages' CSP bypassed (the story enforces it)
    context = browser.new_context(viewport=SIZES[request.param], locale="zh-CN", bypass_csp=True)
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    context.close()


@pytest.fixture
def world(server: str, container: Container) -> Iterator[ConsoleWorld]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield seed(client, container)


def size(page: Page) -> str:
    viewport = page.viewport_size or {"width": 0, "height": 0}
    return f"{viewport['width']}x{viewport['height']}"


def serious(page: Page) -> list[dict[str, object]]:
    return [v for v in violations(page) if v["impact"] in ("serious", "critical")]


def sign_in_as(page: Page, server: str, container: Container, user: str) -> None:
    cookie, _ = session_for(container, user)
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": server}])


def test_every_console_page_has_no_serious_accessibility_violation(
        page: Page, server: str, container: Container, world: ConsoleWorld) -> None:
    sign_in_as(page, server, container, user_id(world.api, world.api.station))
    checked = {}
    for name, path in {"overview": "/console/districts/徐汇区", "project": f"/console/projects/{world.project}",
                       "item": f"/console/items/{world.late}",
                       "spot-check": f"/console/items/{world.late}?spot=excavation",
                       "photo": f"/console/photos/{world.photo}?item={world.late}", "kinds": "/console/kinds",
                       "verify": f"/console/items/{world.late}/verify",
                       "refused": f"/console/items/{world.foreign}"}.items():
        page.goto(server + path)
        page.wait_for_load_state("networkidle")
        checked[name] = serious(page)
        page.screenshot(path=screenshot_path(f"console-page-{name}-{size(page)}"), full_page=True)
    page.goto(f"{server}/console/items/{world.late}")
    page.get_by_role("button", name="开具整改通知").click()  # the browser's own `required` check stops it
    page.get_by_label("问题描述").fill("   ")
    page.get_by_role("button", name="开具整改通知").click()
    page.wait_for_selector(".error-summary")
    checked["refusal"] = serious(page)
    page.screenshot(path=screenshot_path(f"console-refusal-{size(page)}"), full_page=True)
    admin = person(container, Role.ADMIN, name="市住建委")
    sign_in_as(page, server, container, admin)
    page.goto(f"{server}/console/city")
    page.wait_for_load_state("networkidle")
    checked["city"] = serious(page)
    page.screenshot(path=screenshot_path(f"console-city-{size(page)}"), full_page=True)
    assert {name: found for name, found in checked.items() if found} == {}
